"""Forms for drafting motions and entering in-person counts (moderators), and the no-JS ballot."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from agora.models import Household
from sessions.models import TopicSession
from voting.models import Base, BallotUnit, Eligibility, Motion, MotionKind, Threshold, WeightMode
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
        help_text=_("For single choice, approval and ranked votes. Approve/reject and Art. 278 use 赞成/反对/弃权."),
    )
    eligibility = forms.ChoiceField(label=_("Who may vote"), choices=Eligibility.choices)
    ballot_unit = forms.ChoiceField(label=_("Ballots"), choices=BallotUnit.choices)
    weight_mode = forms.ChoiceField(label=_("Weights"), choices=WeightMode.choices)
    base = forms.ChoiceField(label=_("Majority of"), choices=Base.choices)
    threshold = forms.ChoiceField(label=_("Threshold"), choices=Threshold.choices)
    quorum_percent = forms.IntegerField(label=_("Quorum (% of eligible, optional)"), required=False, min_value=1, max_value=100)
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
        self.fields["agenda_item"].choices = items  # type: ignore[attr-defined]

    def motion_settings(self) -> MotionSettings:
        data = self.cleaned_data
        return MotionSettings(
            kind=data["kind"],
            eligibility=data["eligibility"],
            ballot_unit=data["ballot_unit"],
            weight_mode=data["weight_mode"],
            base=data["base"],
            threshold=data["threshold"],
            quorum_percent=data["quorum_percent"],
            major_matter=data["major_matter"],
            secret=data["secret"],
            allow_change=data["allow_change"],
            results_live=data["results_live"],
            max_choices=data["max_choices"],
            closes_at=data["closes_at"],
            options=[line for line in (data["options"] or "").splitlines() if line.strip()],
        )

    def agenda_item_obj(self) -> Any:
        value = self.cleaned_data.get("agenda_item")
        return self.session.agenda_items.filter(pk=int(value)).first() if value else None


_SPLIT = re.compile(r"[\s,，、;；]+")


class InPersonForm(forms.Form):
    """One field per option: a count, or (household votes) the households' addresses."""

    def __init__(self, *args: Any, motion: Motion, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.motion = motion
        self.by_household = motion.ballot_unit == BallotUnit.HOUSEHOLD or motion.kind == MotionKind.ART278
        self.option_list = list(motion.options.all())
        from voting.templatetags.voting_tags import option_label

        self.grouped = motion.kind in {MotionKind.APPROVAL, MotionKind.RANKED} and not self.by_household
        if self.grouped:
            self.fields["ballots"] = forms.CharField(
                label=_("Paper ballots"),
                widget=forms.Textarea(attrs={"rows": 5}),
                help_text=_("One line per group of identical ballots: the count, a colon, then option numbers (in order of preference for ranked votes), e.g. “12: 1 3”."),
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

    def entries(self) -> list[InPersonEntry]:
        if self.grouped:
            return self._grouped_entries()
        entries = []
        households = {
            str(h): h for h in Household.objects.filter(building__community_id=self.motion.session.community_id).select_related("building")
        }
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
        entries = []
        for number, line in enumerate((self.cleaned_data.get("ballots") or "").splitlines(), start=1):
            if not line.strip():
                continue
            count_text, sep, rest = line.replace("：", ":").partition(":")
            positions = [p for p in _SPLIT.split(rest) if p]
            if not sep or not count_text.strip().isdigit() or not positions or not all(p.isdigit() and int(p) in by_position for p in positions):
                raise forms.ValidationError(_("Line %(n)d could not be read. Write it like “12: 1 3”.") % {"n": number})
            entries.append(InPersonEntry(choice=[by_position[int(p)] for p in positions], count=int(count_text)))
        return entries
