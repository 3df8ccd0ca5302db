"""One digest of everything a load reads: content files and the code that reads them.

A load records it; a later load whose files give the same digest would write
nothing, so the CLI says so without parsing them (`content load --force` reads
them anyway).
"""

from __future__ import annotations

import hashlib
import secrets
from functools import cache
from pathlib import Path

import yaml

FOLDERS = ("essays", "questions", "quizzes")
PACKAGE = Path(__file__).resolve().parent.parent
# What turns the same files into rows: a change here may change what a load writes.
CODE = ("content", "types", "questions.py", "models.py")


def content_files(root: Path, folder: str) -> list[Path]:
    """The files of one content folder, in the order they are read."""
    where = root / folder
    return sorted([*where.glob("*.yaml"), *where.glob("*.yml")])


class ContentDigest:
    """SHA-256 of the loader's code, then each file's folder, name and bytes."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256(_code_digest())
        self.files = 0

    def add(self, folder: str, path: Path, data: bytes) -> None:
        """Fold in one file, as read (its name and length frame its bytes)."""
        self._hash.update(f"{folder}/{path.name}\0{len(data)}\0".encode())
        self._hash.update(data)
        self.files += 1

    def hexdigest(self) -> str:
        """The digest so far, as the 64 hex digits ContentState stores."""
        return self._hash.hexdigest()


def digest_files(root: Path | str) -> ContentDigest | None:
    """The digest of a content directory's files, or None when there is none."""
    root = Path(root)
    if not root.is_dir():
        return None
    digest = ContentDigest()
    for folder in FOLDERS:
        for path in content_files(root, folder):
            digest.add(folder, path, path.read_bytes())
    return digest


@cache
def _code_digest() -> bytes:
    code = hashlib.sha256(f"PyYAML {yaml.__version__}\0".encode())
    for name in CODE:
        where = PACKAGE / name
        if not where.exists():
            # Code that cannot be read cannot vouch for a skip: match nothing stored.
            return secrets.token_bytes(32)
        for path in sorted(where.rglob("*.py")) if where.is_dir() else [where]:
            code.update(f"{path.relative_to(PACKAGE).as_posix()}\0".encode())
            code.update(path.read_bytes())
    return code.digest()
