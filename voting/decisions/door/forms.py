"""The forms of door to door and proxies: the ballot of every matter (read from the POST as the
choices ``vote_record`` takes, and back into what the form shows again), the reason, the proxy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from voting.choices import option_label
from voting.decisions.ballots import matters_of, options_of
from voting.decisions.door.services import DOOR_REASONS
from voting.models import Decision, Motion, MotionKind, ProxyKind

BALLOT_FIELDS = ("reason", "reason_text", "idempotency_key", "unit")


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

    @property
    def field(self) -> str:
        return f"m{self.matter.pk}"

    @property
    def multiple(self) -> bool:
        return self.matter.kind == MotionKind.APPROVAL

    @property
    def ranked(self) -> bool:
        return self.matter.kind == MotionKind.RANKED

    @property
    def chosen(self) -> list[OptionRow]:
        if self.ranked:
            return sorted((o for o in self.options if o.rank), key=lambda o: o.rank or 0)
        return [o for o in self.options if o.checked]


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def ballot_rows(decision: Decision, data: QueryDict | None = None) -> list[MatterRow]:
    """Every matter with its options, marked with what ``data`` (a POST) chose."""
    rows = []
    for matter in matters_of(decision):
        row = MatterRow(matter)
        picked = {_int(v) for v in data.getlist(f"m{matter.pk}")} if data is not None else set()
        for option in options_of(matter):
            rank = _int(data.get(f"m{matter.pk}-o{option.pk}")) if data is not None else None
            row.options.append(OptionRow(option.pk, option_label({"code": option.code, "label": option.label}), option.pk in picked, rank))
        rows.append(row)
    return rows


def choices_of(rows: list[MatterRow]) -> dict[int, Any]:
    """The choices ``vote_record`` takes: one id, a set of ids, or an order of preference; a
    matter with nothing chosen is left out (``clean_choices`` names it)."""
    choices: dict[int, Any] = {}
    for row in rows:
        ids = [o.pk for o in row.chosen]
        if ids or row.multiple:
            choices[row.matter.pk] = ids if (row.multiple or row.ranked) else ids[0] if len(ids) == 1 else ids
    return choices


def hidden_fields(data: QueryDict) -> list[tuple[str, str]]:
    """What the confirmation page carries on: the ballot's fields as they were posted."""
    keep: list[tuple[str, str]] = []
    for name in data:
        if name == "csrfmiddlewaretoken" or name == "confirmed":
            continue
        if name.startswith("m") or name in BALLOT_FIELDS:
            keep.extend((name, value) for value in data.getlist(name))
    return keep


def reason_choices() -> list[tuple[str, Any]]:
    return list(DOOR_REASONS.items())


class ProxyForm(forms.Form):
    unit = forms.ChoiceField(label=_("Unit (the principal)"))
    holder = forms.CharField(
        label=_("Holder's login"),
        max_length=150,
        help_text=_("The account of the family member or representative who will vote (a resident, or an account made for them)."),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=ProxyKind.choices, initial=ProxyKind.PROXY)
    scope = forms.CharField(label=_("Scope"), max_length=200, required=False, initial=_("Every matter of this decision"))
    valid_from = forms.DateTimeField(
        label=_("Valid from"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    valid_until = forms.DateTimeField(
        label=_("Valid until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    document = forms.FileField(
        label=_("Signed proxy (photo or scan)"),
        help_text=_("A JPEG or PNG photo, or a PDF scan; at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )

    def __init__(self, *args: Any, units: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—"), *units]


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("Reason for revoking"), max_length=200, widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(
        label=_("I understand: the holder can no longer vote for this unit."),
        error_messages={"required": _("Please tick the box to confirm the revocation.")},
    )
