"""The app's one cache of what only content changes: one bound, one eviction rule.

Questions, rendered fragments, page stencils, form classes and decks are pure
functions of the loaded content (and of a stored option order, an answer, the mount
point). One `ContentCache` per app, in `app.extensions`, holds them all under the
content version that the page's own statement returned: a new version empties it,
so a `content load` anywhere is seen by every worker on its next request. The bound
is on the estimated size of what is held (DECK bytes count as what they weigh,
everything else as a kilobyte); past it the least recently used entries go. Keys
that carry request data (the script root, a typed answer) are bounded by the same
rule. The database stays the only record: a miss renders the same bytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from flask import Flask, current_app

T = TypeVar("T")
EXTENSION = "quizapp.cache"
ENTRY_WEIGHT = 1024  # what an entry of unknown size is taken to weigh, in bytes


class ContentCache:
    """A bounded, thread-safe LRU map for one content version at a time."""

    def __init__(self, max_bytes: int) -> None:
        """An empty cache holding at most about `max_bytes`."""
        self.max_bytes = max_bytes
        self.version: str | None = None
        self.weight = 0
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()  # threaded servers share one cache

    def get(
        self,
        version: str | None,
        key: Hashable,
        make: Callable[[], T],
        weight: Callable[[T], int] | None = None,
    ) -> T:
        """The value for `key`, made (outside the lock) on a miss.

        `version` is the content version the caller read (None: the value does not
        depend on content, any version will do).
        """
        with self._lock:
            if version is None or version == self.version:
                found = self._entries.get(key)
                if found is not None:
                    self._entries.move_to_end(key)
                    return found[0]  # type: ignore[no-any-return]
        value = make()
        self._store(version, {key: value}, weight)
        return value

    def get_many(
        self,
        version: str,
        keys: Iterable[Hashable],
        make: Callable[[list[Hashable]], dict[Hashable, T]],
    ) -> dict[Hashable, T]:
        """Values for all `keys`, the missing ones made by one call of `make`."""
        keys = list(keys)
        found: dict[Hashable, T] = {}
        with self._lock:
            if version == self.version:
                for key in keys:
                    entry = self._entries.get(key)
                    if entry is not None:
                        self._entries.move_to_end(key)
                        found[key] = entry[0]
        missing = [k for k in keys if k not in found]
        if missing:
            made = make(missing)
            self._store(version, made, None)
            found.update(made)
        return found

    def _store(
        self,
        version: str | None,
        made: dict[Hashable, Any],
        weight: Callable[[Any], int] | None,
    ) -> None:
        with self._lock:
            if version is not None and version != self.version:
                self._entries.clear()
                self.weight = 0
                self.version = version
            for key, value in made.items():
                size = weight(value) if weight else ENTRY_WEIGHT
                old = self._entries.pop(key, None)
                if old is not None:
                    self.weight -= old[1]
                self._entries[key] = (value, size)
                self.weight += size
            while self.weight > self.max_bytes and len(self._entries) > 1:
                _, (_, size) = self._entries.popitem(last=False)
                self.weight -= size

    def __len__(self) -> int:
        """How many entries are held."""
        return len(self._entries)

    def clear(self) -> None:
        """Forget everything (a process that swaps databases)."""
        with self._lock:
            self._entries.clear()
            self.weight = 0
            self.version = None


def init_app(app: Flask) -> None:
    """Give the app its cache, bounded by CONTENT_CACHE_BYTES."""
    app.extensions[EXTENSION] = ContentCache(int(app.config["CONTENT_CACHE_BYTES"]))


def content_cache() -> ContentCache:
    """The current app's cache."""
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]
