"""Form fields and validators the answer forms of several types share."""

from __future__ import annotations

import unicodedata

from wtforms import Field, Form, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

MAX_ANSWER_LENGTH = 200


def choices(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    """A group of checkboxes (select all that apply)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def no_control_chars(_form: Form, field: Field) -> None:
    """Refuse typed text holding control characters (a tab is fine)."""
    values = field.data if isinstance(field.data, list) else [field.data]
    for value in values:
        if isinstance(value, str) and any(
            unicodedata.category(c) == "Cc" and c != "\t" for c in value
        ):
            raise ValidationError("Remove the control characters from your answer.")
