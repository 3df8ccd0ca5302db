from flask.cli import AppGroup

anki_cli = AppGroup("anki", help="Export the bank as Anki decks.")
