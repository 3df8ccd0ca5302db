"""Views: moving study history between this browser and Anki.

- /progress/import: the page that explains both directions, and the upload of an
  Anki export (.apkg/.colpkg with scheduling) or a progress JSON file, merged
  into this browser's learner (the session's; no form field names a learner).
- /decks/mine.apkg: the bank's deck carrying this learner's schedule and log.

Reading an upload runs in a bounded child process (quizapp/anki/history.py)
before the write lock is taken; the merge is one transaction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from flask import Blueprint, Response, abort, current_app, render_template, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from ..anki import history as anki_history
from ..database import write_lock
from ..extensions import db
from ..models import utcnow
from ..quiz import catalogue as listing
from ..quiz.learners import assign_learner_id
from ..quiz.learners import learner_id as session_learner_id
from ..ratelimits import limit
from . import cards, portable, queue
from .forms import ImportForm
from .history import Merged, merge_events

bp = Blueprint("history", __name__)

Page = str | tuple[str, int] | WerkzeugResponse


@dataclass(frozen=True)
class ImportReport:
    """What an upload did, as the page reports it."""

    kind: str  # "Anki package" or "progress file"
    merged: Merged
    notes: int | None = None  # Anki: notes in the package
    matched: int | None = None  # Anki: of them questions of this bank
    unusable: Counter[str] = field(default_factory=Counter)

    @property
    def not_ours(self) -> int | None:
        """Notes in the package that are not ours (ignored)."""
        if self.notes is None or self.matched is None:
            return None
        return self.notes - self.matched


@bp.get("/progress/import")
def import_page() -> Page:
    """Both directions explained, the upload form, the personal deck's link."""
    return _page(ImportForm())


@bp.post("/progress/import")
@limit("RATE_LIMIT_IMPORT", "import")
def import_history() -> Page:
    """Merge an uploaded history into this browser's learner."""
    form = ImportForm()
    if not form.validate_on_submit():
        return _page(form), 400
    data = form.file.data.read()
    now = utcnow()
    if data[:64].removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"{"):
        return _import_json(form, data, now)
    try:
        found = anki_history.read_package(data, now)
    except anki_history.BridgeRefused as refused:
        return _page(form, error=refused.message), 400
    if not found.matched:
        return _page(form, error=_none_ours(found.notes)), 400
    learner_id = assign_learner_id()
    write_lock()
    cards.ensure_learner(learner_id)
    settings = queue.settings_of(learner_id)
    merged = merge_events(learner_id, found.events, settings.desired_retention)
    db.session.commit()
    report = ImportReport(
        kind="Anki package",
        merged=merged,
        notes=found.notes,
        matched=found.matched,
        unusable=found.unusable,
    )
    return _page(ImportForm(formdata=None), report=report)


def _none_ours(notes: int) -> str:
    return (
        f"This package holds {notes} notes, but none of them are from the"
        " Peacekeeping deck, so there is nothing to import. Export the deck you"
        " imported from this site (or your whole collection) and upload that."
    )


def _import_json(form: ImportForm, data: bytes, now: datetime) -> Page:
    """A progress file (JSON) this app exported, merged like an Anki history."""
    try:
        parsed = portable.parse_progress(data, now)
    except portable.ProgressFileError as error:
        return _page(form, error=str(error)), 400
    learner_id = assign_learner_id()
    write_lock()
    result = portable.import_progress(learner_id, parsed)  # creates the learner row
    db.session.commit()
    report = ImportReport(kind="progress file", merged=result.merged)
    return _page(ImportForm(formdata=None), report=report)


def _page(
    form: ImportForm, error: str | None = None, report: ImportReport | None = None
) -> str:
    errors = [error] if error else [e for f in form for e in f.errors]
    has_history = session_learner_id() is not None
    return render_template(
        "study/history.html",
        form=form,
        errors=errors,
        report=report,
        has_history=has_history,
        upload_mib=current_app.config["HISTORY_UPLOAD_BYTES"] // 2**20,
        deck_url=url_for(".my_deck"),
    )


@bp.get("/decks/mine.apkg")
@limit("RATE_LIMIT_DECKS", "decks")
def my_deck() -> Response:
    """The whole bank as a deck, with this learner's schedule and review log."""
    learner_id = session_learner_id()
    questions = listing.deck_questions()
    try:
        data = anki_history.learner_deck(questions, learner_id or "")
    except anki_history.BridgeRefused as refused:
        current_app.logger.error("personal deck: %s %s", refused.code, refused.detail)
        abort(503, "Your deck could not be built just now. Try again in a minute.")
    response = Response(data, mimetype="application/apkg")
    response.headers["Content-Disposition"] = (
        'attachment; filename="peacekeeping-my-progress.apkg"'
    )
    return response
