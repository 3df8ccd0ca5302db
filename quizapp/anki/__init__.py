"""Stage 2b: questions from the database -> Anki .apkg (the only genanki importer)."""

from .builder import DeckBuild, build_deck, deck_filename, write_deck

__all__ = ["DeckBuild", "build_deck", "deck_filename", "write_deck"]
