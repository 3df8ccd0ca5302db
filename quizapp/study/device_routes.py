"""Views: continue on another device (transfer codes) and the progress JSON export.

GET /device explains and offers a code; POST /device/code issues one; the other
browser opens /device/join (the form, prefilled from ?code=; a GET changes
nothing) and posts it to attach itself to the learner. GET
/progress/export.json downloads the learner's progress file (quizapp.study.
portable); its import is /progress/import.
"""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    Flask,
    Response,
    render_template,
    request,
    session,
    url_for,
)
from flask import redirect as flask_redirect
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from ..database import write_lock
from ..extensions import db
from ..models import utcnow
from ..quiz.learners import assign_learner_id
from ..quiz.learners import learner_id as session_learner_id
from ..ratelimits import limit
from . import cards, portable, queue, transfer
from .days import local_time
from .transfer import Refusal

bp = Blueprint("device", __name__)

Page = str | tuple[str, int] | WerkzeugResponse
EXPIRED_FORM = "This page expired. Reload it and try again."


def clock() -> datetime:
    """Now (the tests move it to see a code expire)."""
    return utcnow()


def init_app(app: Flask) -> None:
    """Register the device blueprint (/device, /device/join, /progress/export.json)."""
    app.register_blueprint(bp)


class IssueForm(FlaskForm):
    """Ask for a transfer code (the CSRF token is the whole form)."""


class JoinForm(FlaskForm):
    """The transfer code typed on the new device."""

    code = StringField(
        "Transfer code",
        validators=[
            InputRequired("Type the code shown on your other device."),
            Length(max=40, message="A transfer code has 12 letters and digits."),
        ],
    )


@bp.get("/device")
def device() -> Page:
    """Continue on another device: what it does, and a button that issues a code."""
    joined = request.args.get("joined") == "1"
    return render_template(
        "study/device.html",
        form=IssueForm(formdata=None),
        issued=None,
        joined=joined,
        added=_count_arg("added") if joined else None,
        attempts=_count_arg("attempts") if joined else None,
        already=request.args.get("already") == "1",
    )


@bp.post("/device/code")
@limit("RATE_LIMIT_TRANSFER", "transfer-code")
def issue() -> Page:
    """Issue a code for this browser's learner and show it, with its link."""
    form = IssueForm(formdata=request.form)
    if not form.validate():
        return _device_page(form, error=EXPIRED_FORM), 400
    learner_id = assign_learner_id()
    now = clock()
    write_lock()
    cards.ensure_learner(learner_id)
    issued = transfer.issue_code(learner_id, now)
    zone = queue.settings_of(learner_id).time_zone
    db.session.commit()
    local = local_time(issued.expires_at, zone)
    return _device_page(
        IssueForm(formdata=None),
        issued=issued,
        expires=f"{local:%H:%M} ({zone})",
        link=url_for(".join_form", code=issued.code, _external=True),
    )


def _device_page(form: IssueForm, error: str | None = None, **context: object) -> str:
    context.setdefault("issued", None)
    return render_template(
        "study/device.html", form=form, error=error, joined=False, **context
    )


@bp.get("/device/join")
def join_form() -> Page:
    """The join form, the code filled in from ?code= (a link); nothing changes."""
    code = request.args.get("code", "")[:40]
    return _join_page(JoinForm(formdata=None, code=code))


@bp.post("/device/join")
@limit("RATE_LIMIT_TRANSFER", "transfer-join")
def join() -> Page:
    """Redeem a code: this browser becomes its learner, its own history merged in."""
    form = JoinForm(formdata=request.form)
    if not form.validate():
        if "csrf_token" in form.errors:
            return _join_page(form, error=EXPIRED_FORM), 400
        return _join_page(form), 400
    now = clock()
    write_lock()
    found = transfer.redeem(form.code.data or "", now)
    if isinstance(found, Refusal):
        db.session.rollback()
        form.code.errors = [found.message]
        return _join_page(form), found.status
    attached = transfer.attach(session_learner_id(), found)
    session["learner"] = found
    session.permanent = True
    db.session.commit()
    merged = attached.merged
    args: dict[str, str] = {"joined": "1"}
    if attached.already:
        args["already"] = "1"
    if merged is not None:
        args["added"] = str(merged.added)
    if attached.attempts:
        args["attempts"] = str(attached.attempts)
    return flask_redirect(url_for(".device", **args), 303)


def _join_page(form: JoinForm, error: str | None = None) -> str:
    errors = [field for field in form if field.errors and field.name != "csrf_token"]
    return render_template("study/join.html", form=form, errors=errors, error=error)


@bp.get("/progress/export.json")
def export() -> Response:
    """This browser's progress file (settings and every review) as a download."""
    now = clock()
    body = portable.export_bytes(session_learner_id(), now)
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": (
                f'attachment; filename="quizapp-progress-{now:%Y-%m-%d}.json"'
            )
        },
    )


def _count_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) <= 9 else None
