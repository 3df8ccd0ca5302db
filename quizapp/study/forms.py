"""Study forms: which card was shown, the rating, undo, and the settings."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DecimalField,
    Field,
    HiddenField,
    IntegerField,
    SelectField,
)
from wtforms.validators import (
    AnyOf,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import HiddenInput

from .days import known_zone, zone_names

QUESTION_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class ShownForm(FlaskForm):
    """The card a page showed: its question, its review count, the scope, the zone.

    `seen` is the card's review count when the page was made: a post whose count
    no longer matches (a double click, a second tab) changes nothing.
    """

    question = HiddenField(
        validators=[InputRequired(), Length(max=100), Regexp(QUESTION_ID)]
    )
    seen = IntegerField(
        widget=HiddenInput(), validators=[InputRequired(), NumberRange(0, 10**9)]
    )
    scope = HiddenField(validators=[Optional(), Length(max=6000)])
    # The browser's time zone (study.js), used while the learner has no settings.
    zone = HiddenField(validators=[Optional(), Length(max=64)])


class RateForm(ShownForm):
    """Again, Hard, Good or Easy for the card shown (1-4, one submit button each)."""

    rating = IntegerField(
        validators=[InputRequired("Choose a rating."), AnyOf([1, 2, 3, 4])]
    )


class UndoForm(FlaskForm):
    """Take back the rating the page offered to undo."""

    log = IntegerField(
        widget=HiddenInput(), validators=[InputRequired(), NumberRange(1, 2**62)]
    )
    scope = HiddenField(validators=[Optional(), Length(max=6000)])


def _zone_known(_form: FlaskForm, field: Field) -> None:
    if not known_zone(field.data or ""):
        raise ValidationError(
            f"“{(field.data or '')[:64]}” is not a time zone we know. "
            "Choose one from the list, such as Europe/Berlin or UTC."
        )


class SettingsForm(FlaskForm):
    """A learner's study settings, each with its allowed range."""

    new_per_day = IntegerField(
        "New cards per day",
        default=20,
        validators=[
            InputRequired("Say how many new cards a day you want."),
            NumberRange(0, 9999, "Choose between 0 and 9999 new cards a day."),
        ],
    )
    max_reviews_per_day = IntegerField(
        "Maximum reviews per day",
        default=200,
        validators=[
            InputRequired("Say how many reviews a day at most."),
            NumberRange(0, 99999, "Choose between 0 and 99999 reviews a day."),
        ],
    )
    desired_retention = DecimalField(
        "Desired retention",
        default=0.9,
        places=2,
        validators=[
            InputRequired("Give a desired retention between 0.80 and 0.97."),
            NumberRange(0.8, 0.97, "Choose a desired retention between 0.80 and 0.97."),
        ],
    )
    time_zone = SelectField(
        "Time zone", default="UTC", validate_choice=False, validators=[_zone_known]
    )
    day_starts_at_hour = IntegerField(
        "A new study day starts at (hour, 0-23)",
        default=4,
        validators=[
            InputRequired("Give the hour a new study day starts, 0 to 23."),
            NumberRange(0, 23, "Choose an hour from 0 to 23."),
        ],
    )
    browser_zone = HiddenField(validators=[Optional(), Length(max=64)])

    def __init__(self, *args: object, **kwargs: object) -> None:
        """The form with every known time zone as a choice."""
        super().__init__(*args, **kwargs)
        self.time_zone.choices = [(name, name) for name in zone_names()]


class ImportForm(FlaskForm):
    """An upload of study history: an Anki export or our progress JSON file."""

    file = FileField(
        "Your Anki export (.apkg or .colpkg) or progress file (.json)",
        validators=[FileRequired("Choose the file to upload.")],
    )
