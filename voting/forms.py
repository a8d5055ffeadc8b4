"""Forms for drafting motions and entering in-person counts (moderators), and the no-JS ballot."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from agora.infra.forms import choice_field
from agora.roster.models import Household
from sessions.models import TopicSession
from voting.models import (
    BallotUnit,
    Base,
    Eligibility,
    Motion,
    MotionKind,
    Threshold,
    WeightMode,
)
from voting.services import InPersonEntry, MotionSettings


class MotionForm(forms.Form):
    text = forms.CharField(label=_("Motion"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))
    description = forms.CharField(label=_("Details"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    agenda_item = forms.ChoiceField(label=_("Agenda item"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=MotionKind.choices, initial=MotionKind.APPROVE_REJECT)
    options = forms.CharField(
        label=_("Options (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For single choice, approval and ranked votes. Approve/reject and Art. 278 always use Yes, No and Abstain."),
    )
    eligibility = forms.ChoiceField(label=_("Who may vote"), choices=Eligibility.choices)
    ballot_unit = forms.ChoiceField(label=_("Ballots"), choices=BallotUnit.choices)
    weight_mode = forms.ChoiceField(label=_("Weights"), choices=WeightMode.choices)
    base = forms.ChoiceField(label=_("Majority of"), choices=Base.choices)
    threshold = forms.ChoiceField(label=_("Threshold"), choices=Threshold.choices)
    quorum = forms.CharField(
        label=_("Quorum (share of eligible, optional)"),
        required=False,
        max_length=20,
        help_text=_("A fraction or a percentage of everyone eligible, e.g. 2/3, 1/2 or 60%. 2/3 means exactly two thirds."),
    )
    major_matter = forms.BooleanField(label=_("Major matter under Art. 278 (3/4 needed)"), required=False)
    max_choices = forms.IntegerField(label=_("Approval: at most this many choices (optional)"), required=False, min_value=1, max_value=20)
    secret = forms.BooleanField(label=_("Secret ballot"), required=False, initial=True)
    allow_change = forms.BooleanField(label=_("Voters may change their ballot until close"), required=False, initial=True)
    results_live = forms.BooleanField(label=_("Show results while voting (open ballots only)"), required=False)
    closes_at = forms.DateTimeField(
        label=_("Close automatically at (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, session: TopicSession, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session = session
        items = [("", _("(none)"))] + [(str(a.pk), a.title) for a in session.agenda_items.all()]
        choice_field(self, "agenda_item").choices = items

    def motion_settings(self) -> MotionSettings:
        data = self.cleaned_data
        return MotionSettings(
            kind=data["kind"],
            eligibility=data["eligibility"],
            ballot_unit=data["ballot_unit"],
            weight_mode=data["weight_mode"],
            base=data["base"],
            threshold=data["threshold"],
            quorum=data["quorum"],
            major_matter=data["major_matter"],
            secret=data["secret"],
            allow_change=data["allow_change"],
            results_live=data["results_live"],
            max_choices=data["max_choices"],
            closes_at=data["closes_at"],
            options=[line for line in (data["options"] or "").splitlines() if line.strip()],
        )

    def clean_quorum(self) -> Fraction | None:
        text = (self.cleaned_data.get("quorum") or "").strip()
        if not text:
            return None
        quorum = parse_quorum(text)
        if quorum is None:
            raise forms.ValidationError(_("Write the quorum as a fraction such as 2/3 or a percentage such as 60%."))
        if not 0 < quorum <= 1:
            raise forms.ValidationError(_("The quorum must be more than 0 and at most all of the eligible (for example 1/2, 2/3 or 60%)."))
        return quorum

    def agenda_item_obj(self) -> Any:
        value = self.cleaned_data.get("agenda_item")
        return self.session.agenda_items.filter(pk=int(value)).first() if value else None


_FRACTION = re.compile(r"^\s*(\d{1,6})\s*[/／]\s*(\d{1,6})\s*$")
_PERCENT = re.compile(r"^\s*(\d{1,3}(?:\.\d{1,4})?)\s*[%％]?\s*$")


def parse_quorum(text: str) -> Fraction | None:
    """ "2/3" → 2/3 exactly; "60%" or "60" → 3/5; "66.5%" → 133/200. None if unreadable."""
    if match := _FRACTION.match(text):
        numerator, denominator = int(match[1]), int(match[2])
        return Fraction(numerator, denominator) if denominator else None
    if match := _PERCENT.match(text):
        return Fraction(match[1]) / 100
    return None


_SPLIT = re.compile(r"[\s,，、;；]+")


class InPersonForm(forms.Form):
    """One field per option: a count, or (household votes) the households' addresses."""

    def __init__(self, *args: Any, motion: Motion, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.motion = motion
        self.by_household = motion.ballot_unit == BallotUnit.HOUSEHOLD or motion.kind == MotionKind.ART278
        self.option_list = list(motion.options.all())
        from voting.choices import option_label

        # Approval and ranked ballots are whole ballots (several options, an order): one line
        # per group of identical ballots, counted or (household votes) listed by address.
        self.grouped = motion.kind in {MotionKind.APPROVAL, MotionKind.RANKED}
        if self.grouped:
            help_text = (
                _(
                    "One line per group of identical ballots: the addresses of the households, a colon, then option numbers (in order of preference for ranked votes), e.g. “1号楼-1-101 2号楼-1-202: 1 3”."
                )
                if self.by_household
                else _(
                    "One line per group of identical ballots: the count, a colon, then option numbers (in order of preference for ranked votes), e.g. “12: 1 3”."
                )
            )
            self.fields["ballots"] = forms.CharField(
                label=_("Paper ballots"), widget=forms.Textarea(attrs={"rows": 5}), help_text=help_text
            )
            return
        for o in self.option_list:
            label = option_label({"code": o.code, "label": o.label})
            if self.by_household:
                self.fields[f"o{o.pk}"] = forms.CharField(
                    label=label,
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 2}),
                    help_text=_("Addresses of the households, e.g. 1号楼-1-101, separated by spaces or commas."),
                )
            else:
                self.fields[f"o{o.pk}"] = forms.IntegerField(label=label, required=False, min_value=0, max_value=100000)

    def _households(self) -> dict[str, Household]:
        return {
            str(h): h for h in Household.objects.filter(building__community_id=self.motion.room.community_id).select_related("building")
        }

    def entries(self) -> list[InPersonEntry]:
        if self.grouped:
            return self._grouped_entries()
        entries = []
        households = self._households()
        for o in self.option_list:
            value = self.cleaned_data.get(f"o{o.pk}")
            if self.by_household:
                names = [n for n in _SPLIT.split(value or "") if n]
                unknown = [n for n in names if n not in households]
                if unknown:
                    raise forms.ValidationError(_("Unknown household address: %(list)s") % {"list": "、".join(unknown)})
                if names:
                    entries.append(InPersonEntry(choice=[o.pk], households=[households[n] for n in names]))
            elif value:
                entries.append(InPersonEntry(choice=[o.pk], count=value))
        return entries

    def _grouped_entries(self) -> list[InPersonEntry]:
        by_position = {o.position: o.pk for o in self.option_list}
        households = self._households() if self.by_household else {}
        blank_allowed = self.motion.kind == MotionKind.APPROVAL  # an approval ballot may tick nothing
        entries = []
        for number, line in enumerate((self.cleaned_data.get("ballots") or "").splitlines(), start=1):
            if not line.strip():
                continue
            head, sep, rest = line.replace("：", ":").partition(":")
            positions = [p for p in _SPLIT.split(rest) if p]
            readable = sep and (positions or blank_allowed) and all(p.isdigit() and int(p) in by_position for p in positions)
            if self.by_household:
                names = [n for n in _SPLIT.split(head) if n]
                if not readable or not names:
                    raise forms.ValidationError(
                        _("Line %(n)d could not be read. Write it like “1号楼-1-101 2号楼-1-202: 1 3”.") % {"n": number}
                    )
                unknown = [n for n in names if n not in households]
                if unknown:
                    raise forms.ValidationError(_("Unknown household address: %(list)s") % {"list": "、".join(unknown)})
                entries.append(InPersonEntry(choice=[by_position[int(p)] for p in positions], households=[households[n] for n in names]))
                continue
            if not readable or not head.strip().isdigit():
                raise forms.ValidationError(_("Line %(n)d could not be read. Write it like “12: 1 3”.") % {"n": number})
            entries.append(InPersonEntry(choice=[by_position[int(p)] for p in positions], count=int(head)))
        return entries
