"""The results page's forms: an owner's objection, a receipt check, a correction after a recount
(moderators), the final announcement (moderators). Each keeps what was typed when refused."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from voting.choices import option_label
from voting.decisions.ballots import matters_of, options_of
from voting.models import Decision, MotionKind


class ObjectionForm(forms.Form):
    text = forms.CharField(
        label=_("Your objection to the preliminary result"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Please write your objection.")},
    )


class ReceiptCheckForm(forms.Form):
    receipt = forms.CharField(
        label=_("Your receipt"),
        max_length=100,
        error_messages={"required": _("Please type the receipt you were given when you voted.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"}),
    )


class CorrectionForm(forms.Form):
    """One disputed paper ballot entered again, its choices as the recount read them, the reason."""

    vote = forms.TypedChoiceField(label=_("Disputed paper ballot"), coerce=int, error_messages={"required": _("Choose the paper ballot.")})
    reason = forms.CharField(
        label=_("Reason (what the recount found)"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _(
                "Please give the reason for the correction (for example, what the recount found); the correction notice shows it."
            )
        },
    )
    confirm = forms.BooleanField(
        label=_(
            "I confirm: this ballot is voided and entered again, the result is computed again and the correction is published. It cannot be undone."
        ),
        error_messages={"required": _("Please tick the box to confirm the correction.")},
    )

    def __init__(self, *args: Any, decision: Decision, votes: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        vote_field = self.fields["vote"]
        assert isinstance(vote_field, forms.TypedChoiceField)
        vote_field.choices = [("", "—")] + [(v["id"], f"{v['unit']}" + (f" · {v['code']}" if v["code"] else "")) for v in votes]
        self.matter_fields: list[tuple[int, str]] = []
        for matter in matters_of(decision):
            name = f"matter_{matter.pk}"
            choices = [(o.pk, option_label({"code": o.code, "label": o.label})) for o in options_of(matter)]
            label = _("Matter %(n)d: %(text)s") % {"n": matter.position, "text": matter.text}
            if matter.kind == MotionKind.APPROVAL:
                self.fields[name] = forms.TypedMultipleChoiceField(
                    label=label, choices=choices, coerce=int, widget=forms.CheckboxSelectMultiple
                )
            else:
                self.fields[name] = forms.TypedChoiceField(label=label, choices=choices, coerce=int, widget=forms.RadioSelect)
            self.fields[name].error_messages["required"] = _("Please give a choice for every matter (matter %(n)d has none).") % {
                "n": matter.position
            }
            self.matter_fields.append((matter.pk, name))

    def choices(self) -> dict[int, Any]:
        out: dict[int, Any] = {}
        for matter_id, name in self.matter_fields:
            value = self.cleaned_data[name]
            out[matter_id] = list(value) if isinstance(value, list) else [value]
        return out


class FinalizeForm(forms.Form):
    officers = forms.CharField(
        label=_("Counting officers (监票人/计票人), one per line"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Name at least one counting officer (监票人/计票人); the announcement has their signature lines.")},
    )
    confirm = forms.BooleanField(
        label=_("I confirm: the result is final and the announcement is published and sealed. It cannot be undone."),
        error_messages={"required": _("Please tick the box to confirm.")},
    )

    def officer_names(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["officers"].splitlines() if line.strip()]
