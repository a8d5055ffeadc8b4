"""The forms of paper ballots: the choices read off a returned ballot (back into what the form
shows again when an entry is refused), the ballot's date, issuing, a void's reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from voting.choices import option_label
from voting.decisions.ballots import matters_of, options_of
from voting.models import Decision, Motion, MotionKind


@dataclass
class OptionRow:
    pk: int
    label: Any
    checked: bool = False
    rank: int | None = None


@dataclass
class MatterRow:
    matter: Motion
    options: list[OptionRow] = field(default_factory=list)
    differs: bool = False  # review: the two clerks read this matter differently

    @property
    def name(self) -> str:
        return f"m{self.matter.pk}"

    @property
    def multiple(self) -> bool:
        return self.matter.kind == MotionKind.APPROVAL

    @property
    def ranked(self) -> bool:
        return self.matter.kind == MotionKind.RANKED

    @property
    def ranks(self) -> range:
        return range(1, len(self.options) + 1)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def ballot_rows(decision: Decision, data: QueryDict | None = None, *, marked: dict[int, list[int]] | None = None) -> list[MatterRow]:
    """Every matter with its options, marked with what ``data`` (a POST) or ``marked`` chose."""
    rows = []
    for matter in matters_of(decision):
        row = MatterRow(matter)
        if data is not None:
            picked = {_int(v) for v in data.getlist(f"m{matter.pk}")}
        else:
            picked = set((marked or {}).get(matter.pk, []))
        order = (marked or {}).get(matter.pk, [])
        for option in options_of(matter):
            if data is not None:
                rank = _int(data.get(f"m{matter.pk}-o{option.pk}"))
            else:
                rank = order.index(option.pk) + 1 if matter.kind == MotionKind.RANKED and option.pk in order else None
            row.options.append(OptionRow(option.pk, option_label({"code": option.code, "label": option.label}), option.pk in picked, rank))
        rows.append(row)
    return rows


def choices_of(rows: list[MatterRow]) -> dict[int, Any]:
    """The choices ``vote_record`` takes (one id, a set, an order); a matter with nothing chosen
    is left out, so ``clean_choices`` names it."""
    choices: dict[int, Any] = {}
    for row in rows:
        if row.ranked:
            ranked = sorted((o for o in row.options if o.rank), key=lambda o: o.rank or 0)
            if ranked:
                choices[row.matter.pk] = [o.pk for o in ranked]
            continue
        ids = [o.pk for o in row.options if o.checked]
        if row.multiple:
            choices[row.matter.pk] = ids
        elif ids:
            choices[row.matter.pk] = ids[0] if len(ids) == 1 else ids
    return choices


class FilledForm(forms.Form):
    filled_on = forms.DateField(
        label=_("Date written on the ballot (if any)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("A ballot dated after the end of voting is not counted."),
    )

    def filled(self) -> date | None:
        value = self.cleaned_data.get("filled_on")
        return value if isinstance(value, date) else None


class IssueForm(forms.Form):
    issued_to = forms.CharField(
        label=_("Handed to"),
        max_length=100,
        help_text=_("The owner, a family member, the grid worker who delivers them …"),
    )


class VoidForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the void"), max_length=200, widget=forms.Textarea(attrs={"rows": 3}))
    confirmed = forms.BooleanField(
        label=_("I understand: the ballot is taken out of the count, and the unit may vote again."), required=True
    )
