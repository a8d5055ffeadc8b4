"""The forms of a decision's pages: the moderator's draft (the decision and its matter rows),
the confirmations of each step, the owner's ballot, objections and answers.

The draft has a fixed number of matter rows (``matter_rows``; "add a matter" posts the form
back with one row more and everything typed kept), so several matters need no JavaScript.
A row left blank is skipped; a row with only some of its fields typed is an error on that row.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from agora.infra.forms import choice_field
from agora.roster.models import Community
from voting.decisions.lifecycle import MAX_MATTERS, MatterSpec
from voting.models import Motion, MotionKind, MotionOption, UnitMode
from voting.services import MotionSettings

DATETIME_INPUT = {"type": "datetime-local"}
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"

# The kinds a moderator picks for a matter: Art. 278 split into its two thresholds.
ART278_ORDINARY = "art278"
ART278_MAJOR = "art278_major"
MATTER_KINDS = [
    (ART278_ORDINARY, _("Art. 278, ordinary matter (more than half of those taking part)")),
    (ART278_MAJOR, _("Art. 278, major matter (three quarters of those taking part)")),
    (MotionKind.APPROVE_REJECT, _("Approve / reject")),
    (MotionKind.SINGLE, _("Single choice")),
    (MotionKind.APPROVAL, _("Approval (any number of options)")),
    (MotionKind.RANKED, _("Ranked (instant runoff)")),
]
KINDS_WITH_OPTIONS = {MotionKind.SINGLE, MotionKind.APPROVAL, MotionKind.RANKED}
DEFAULT_ROWS = 3


def _datetime_field(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs=DATETIME_INPUT, format=DATETIME_FORMAT),
    )


class DecisionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Details"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    buildings = forms.MultipleChoiceField(
        label=_("Buildings (none ticked: the whole community)"), required=False, widget=forms.CheckboxSelectMultiple
    )
    sessions = forms.MultipleChoiceField(
        label=_("Topic sessions that discuss it (optional)"), required=False, widget=forms.CheckboxSelectMultiple
    )
    unit_mode = forms.ChoiceField(label=_("Voting unit"), choices=UnitMode.choices, initial=UnitMode.OWNER)
    secret = forms.BooleanField(label=_("Secret ballot"), required=False, initial=True)
    results_live = forms.BooleanField(label=_("Show counts while voting is open"), required=False)
    opens_at = _datetime_field(_("Voting opens"))
    closes_at = _datetime_field(_("Voting closes"))
    notice_days = forms.IntegerField(
        label=_("Notice period (days)"),
        min_value=0,
        max_value=60,
        initial=15,
        help_text=_("Voting may open only after the notice has been posted this long."),
    )
    objection_days = forms.IntegerField(label=_("Objection window (days)"), min_value=1, max_value=30, initial=3)
    proxies_per_holder = forms.IntegerField(label=_("Owners one proxy holder may vote for"), min_value=1, max_value=20, initial=1)
    double_entry = forms.BooleanField(label=_("Paper ballots are entered twice, by two clerks"), required=False)

    def __init__(self, *args: Any, community: Community, rows: int = DEFAULT_ROWS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.community = community
        self.rows = max(1, min(rows, MAX_MATTERS))
        choice_field(self, "buildings").choices = [(str(b.pk), b.name) for b in community.buildings.order_by("name")]
        choice_field(self, "sessions").choices = [
            (str(s.pk), s.title) for s in community.topic_sessions.exclude(state="archived").order_by("-pk")[:30]
        ]
        for n in range(1, self.rows + 1):
            self.fields[f"m{n}_text"] = forms.CharField(label=_("Matter %(n)d") % {"n": n}, required=False, max_length=300)
            self.fields[f"m{n}_description"] = forms.CharField(
                label=_("Explanation of matter %(n)d (optional)") % {"n": n},
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"m{n}_kind"] = forms.ChoiceField(
                label=_("How matter %(n)d is decided") % {"n": n}, choices=MATTER_KINDS, initial=ART278_ORDINARY
            )
            self.fields[f"m{n}_options"] = forms.CharField(
                label=_("Options of matter %(n)d, one per line (single choice, approval, ranked)") % {"n": n},
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def matter_rows(self) -> list[dict[str, Any]]:
        """The matter rows' bound fields, for the template."""
        return [
            {
                "n": n,
                "text": self[f"m{n}_text"],
                "description": self[f"m{n}_description"],
                "kind": self[f"m{n}_kind"],
                "options": self[f"m{n}_options"],
            }
            for n in range(1, self.rows + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for n in range(1, self.rows + 1):
            text = (data.get(f"m{n}_text") or "").strip()
            kind = data.get(f"m{n}_kind")
            options = [line for line in (data.get(f"m{n}_options") or "").splitlines() if line.strip()]
            if not text and (options or (data.get(f"m{n}_description") or "").strip()):
                self.add_error(f"m{n}_text", _("Write what matter %(n)d asks, or clear its other fields.") % {"n": n})
            elif text and kind in KINDS_WITH_OPTIONS and len(options) < 2:
                self.add_error(f"m{n}_options", _("Matter %(n)d needs at least two options, one per line.") % {"n": n})
        if not self.errors and not self.matter_specs():
            raise forms.ValidationError(_("A decision needs at least one matter: write it in the first row."))
        return data

    def matter_specs(self) -> list[MatterSpec]:
        data = self.cleaned_data
        specs = []
        for n in range(1, self.rows + 1):
            text = (data.get(f"m{n}_text") or "").strip()
            if not text:
                continue
            kind = data.get(f"m{n}_kind") or ART278_ORDINARY
            options = [line.strip() for line in (data.get(f"m{n}_options") or "").splitlines() if line.strip()]
            if kind in {ART278_ORDINARY, ART278_MAJOR}:
                settings = MotionSettings(kind=MotionKind.ART278, major_matter=kind == ART278_MAJOR)
            else:
                settings = MotionSettings(kind=kind, options=options if kind in KINDS_WITH_OPTIONS else ())
            specs.append(MatterSpec(text=text, description=data.get(f"m{n}_description") or "", settings=settings))
        return specs

    def create_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data.get("description") or "",
            "building_ids": [int(b) for b in data.get("buildings") or []],
            "session_ids": [int(s) for s in data.get("sessions") or []],
            "unit_mode": data["unit_mode"],
            "secret": data["secret"],
            "results_live": data["results_live"],
            "opens_at": data["opens_at"],
            "closes_at": data["closes_at"],
            "notice_days": data["notice_days"],
            "objection_days": data["objection_days"],
            "proxies_per_holder": data["proxies_per_holder"],
            "double_entry": data["double_entry"],
            "matters": self.matter_specs(),
        }


class AnnounceForm(forms.Form):
    shortened_reason = forms.CharField(
        label=_("Reason for the shorter notice period (the notice shows it)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ExtendForm(forms.Form):
    closes_at = _datetime_field(_("New end of voting"))
    reason = forms.CharField(label=_("Reason (the extension notice shows it)"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))


class FinalizeForm(forms.Form):
    counting_officers = forms.CharField(
        label=_("Counting officers (监票人/计票人), one name per line"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The final announcement names them, with a line for each signature."),
    )

    def officers(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["counting_officers"].splitlines() if line.strip()]


class ObjectionForm(forms.Form):
    text = forms.CharField(label=_("Your objection"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("Answer (members see it)"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


def ballot_choices(data: Any, matters: list[Motion], options: dict[int, list[MotionOption]]) -> dict[int, Any]:
    """The choices a ballot form posted, by matter: ``m<id>`` (one option id; several for
    approval) or ``m<id>_rank<k>`` (ranked, best first). What is missing stays missing, and
    ``vote_record`` says which matter has no choice."""
    out: dict[int, Any] = {}
    for matter in matters:
        if matter.kind == MotionKind.RANKED:
            ranks = [data.get(f"m{matter.pk}_rank{k}", "") for k in range(1, len(options[matter.pk]) + 1)]
            out[matter.pk] = [int(r) for r in ranks if r.isdigit()]
        elif matter.kind == MotionKind.APPROVAL:
            out[matter.pk] = [int(v) for v in data.getlist(f"m{matter.pk}") if v.isdigit()]
        else:
            raw = data.get(f"m{matter.pk}", "")
            if raw.isdigit():
                out[matter.pk] = [int(raw)]
    return out
