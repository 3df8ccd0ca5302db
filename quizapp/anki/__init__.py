"""Stage 2b: questions from the database -> Anki .apkg (the only genanki importer)."""
