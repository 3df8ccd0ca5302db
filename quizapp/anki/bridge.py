"""The child process that opens and writes Anki packages with the real `anki` library.

Run by quizapp/anki/history.py as `python -I bridge.py read|write` in a fresh
temporary directory, never imported by the web app: an upload is hostile until
proven otherwise, and Anki's backend is a large native library. This program sets
its own bounds first (address space, CPU seconds, the largest file it may write,
so that a zip or zstd bomb stops at the bound), reads one JSON request on
standard input and writes one JSON answer on standard output. It imports
nothing from quizapp (it runs isolated, with -I).

read PACKAGE: import PACKAGE (.apkg or .colpkg, with scheduling) into an empty
  collection here; answer the review log of the notes whose GUID the request
  lists, and how many other notes there were.
write DECK OUT: import our plain DECK, give its cards the schedule and review log
  the request carries, and export OUT with scheduling.
"""

from __future__ import annotations

import json
import resource
import signal
import sys
import zipfile
from pathlib import Path
from typing import Any

# Entries a package may hold: Anki's collection files, "meta", "media" and
# numbered media files. Anything else (a path, "..", a directory) is refused.
COLLECTIONS = ("collection.anki21b", "collection.anki21", "collection.anki2")
MAX_ENTRIES = 20_000


class Refused(Exception):
    """A package this program will not open; `code` says why (see history.py)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


def bound(request: dict[str, Any]) -> None:
    """Apply the request's limits to this process (they also bind its threads)."""
    memory = int(request["memory_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    seconds = int(request["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    size = int(request["file_bytes"])
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    # A write over the bound then fails with EFBIG (an error Anki reports)
    # instead of killing the process without a word.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def check_zip(path: Path, unpacked_limit: int) -> None:
    """Refuse what is not an Anki package before Anki sees it."""
    if path.stat().st_size == 0:
        raise Refused("empty")
    if not zipfile.is_zipfile(path):
        raise Refused("not-zip")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise Refused("corrupt", str(exc)) from exc
    if len(entries) > MAX_ENTRIES:
        raise Refused("too-many-entries", str(len(entries)))
    names = set()
    total = 0
    for entry in entries:
        name = entry.filename
        if (
            name.startswith(("/", "\\"))
            or "\\" in name
            or "/" in name
            or ".." in name
            or ":" in name
            or not name
        ):
            raise Refused("bad-path", name[:200])
        names.add(name)
        total += entry.file_size
    if not any(name in names for name in COLLECTIONS):
        raise Refused("not-anki")
    if total > unpacked_limit:
        raise Refused("too-large-unpacked", str(total))


def open_collection(folder: Path) -> Any:
    """A new, empty collection in `folder`."""
    from anki.collection import Collection

    folder.mkdir()
    return Collection(str(folder / "collection.anki2"))


def import_package(col: Any, path: Path) -> None:
    """Import a package with its scheduling into `col`."""
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    request = ImportAnkiPackageRequest(
        package_path=str(path),
        options=ImportAnkiPackageOptions(with_scheduling=True, with_deck_configs=False),
    )
    col.import_anki_package(request)


def read(package: Path, request: dict[str, Any]) -> dict[str, Any]:
    """The review log of our notes in a learner's export."""
    check_zip(package, int(request["file_bytes"]))
    col = open_collection(Path("read"))
    try:
        try:
            import_package(col, package)
        except Exception as exc:  # anki raises its own error types for bad data
            text = str(exc)
            code = "too-large-unpacked" if "File too large" in text else "corrupt"
            raise Refused(code, text[:300]) from exc
        ours = set(request["guids"])
        notes = col.db.all("select id, guid from notes")
        mine = {nid: guid for nid, guid in notes if guid in ours}
        held = col.db.scalar("select count() from revlog")
        if held > int(request["max_reviews"]) * 4:
            raise Refused("too-many-reviews", str(held))
        rows = col.db.all(
            "select r.id, c.nid, r.ease, r.type, r.time from revlog r"
            " join cards c on c.id = r.cid order by r.id"
        )
        reviews = [
            [rid, mine[nid], ease, kind, duration]
            for rid, nid, ease, kind, duration in rows
            if nid in mine
        ]
        if len(reviews) > int(request["max_reviews"]):
            raise Refused("too-many-reviews", str(len(reviews)))
        cards = col.db.all("select nid, count() from cards group by nid")
        return {
            "ok": True,
            "notes": len(notes),
            "ours": len(mine),
            "cards_of_ours": sum(n for nid, n in cards if nid in mine),
            "orphan_reviews": held - len(rows),
            "reviews_of_others": len(rows) - len(reviews),
            "reviews": reviews,
        }
    finally:
        col.close()


def write(deck: Path, out: Path, request: dict[str, Any]) -> dict[str, Any]:
    """Our deck with the learner's schedule and review log, exported with both."""
    # anki.collection first: importing anki.cards first is a circular import.
    from anki.collection import ExportAnkiPackageOptions  # noqa: I001
    from anki.cards import FSRSMemoryState

    col = open_collection(Path("write"))
    try:
        import_package(col, deck)
        by_guid: dict[str, list[int]] = {}
        for cid, guid in col.db.all(
            "select c.id, n.guid from cards c join notes n on n.id = c.nid"
            " order by c.ord"
        ):
            by_guid.setdefault(guid, []).append(cid)
        crt = col.crt
        changed = []
        for guid, state in request["cards"].items():
            for cid in by_guid.get(guid, []):
                card = col.get_card(cid)
                _schedule(card, state, crt)
                card.memory_state = FSRSMemoryState(
                    stability=state["stability"], difficulty=state["difficulty"]
                )
                changed.append(card)
        if changed:
            col.update_cards(changed, skip_undo_entry=True)
        rows = [
            (
                entry["id"],
                by_guid[entry["guid"]][0],
                entry["ease"],
                entry["ivl"],
                entry["last_ivl"],
                entry["factor"],
                entry["time"],
                entry["type"],
            )
            for entry in request["revlog"]
            if by_guid.get(entry["guid"])
        ]
        col.db.executemany(
            "insert into revlog (id, cid, usn, ease, ivl, lastIvl, factor,"
            " time, type) values (?, ?, -1, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        col.export_anki_package(
            out_path=str(out),
            options=ExportAnkiPackageOptions(
                with_scheduling=True,
                with_deck_configs=False,
                with_media=False,
                legacy=False,
            ),
            limit=None,
        )
        return {"ok": True, "cards": len(changed), "reviews": len(rows)}
    finally:
        col.close()


def _schedule(card: Any, state: dict[str, Any], crt: int) -> None:
    """Set Anki's type/queue/due/ivl for a card from the browser's FSRS state."""
    due = int(state["due"])  # epoch seconds
    if state["state"] == 2:  # fsrs.State.Review
        card.type = 2
        card.queue = 2
        card.due = max(0, (due - crt) // 86_400)
        card.ivl = max(1, int(state["interval_days"]))
    else:  # learning (1) or relearning (3): an intraday due time
        card.type = 1 if state["state"] == 1 else 3
        card.queue = 1
        card.due = due
        card.ivl = 0 if state["state"] == 1 else max(1, int(state["interval_days"]))
        card.left = 1
    card.factor = 2500
    card.reps = int(state["reps"])
    card.lapses = int(state["lapses"])
    card.last_review_time = int(state["last_review"])


def main(argv: list[str]) -> int:
    """Serve one request; always answer JSON, exit 0 when an answer was written."""
    request = json.loads(sys.stdin.read())
    bound(request)
    try:
        if argv[:1] == ["read"]:
            answer = read(Path(argv[1]), request)
        elif argv[:1] == ["write"]:
            answer = write(Path(argv[1]), Path(argv[2]), request)
        else:
            answer = {"ok": False, "code": "usage", "detail": " ".join(argv)}
    except Refused as refused:
        answer = {"ok": False, "code": refused.code, "detail": refused.detail}
    except MemoryError:
        answer = {"ok": False, "code": "too-much-memory", "detail": ""}
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
