"""Stage 1: read and validate content files, then upsert them into the database."""

from .bank import Bank, read_bank
from .loader import LoadReport, load_bank
from .yamlio import ContentError

__all__ = ["Bank", "ContentError", "LoadReport", "load_bank", "read_bank"]
