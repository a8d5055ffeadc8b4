from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from agora.infra.forms import choice_field, model_choice_field
from agora.roster.models import Building, Community
from records.models import ActionStatus, Outcome, Visibility
from sessions.models import Category, TopicSession

MONTHS = [(str(m), str(m)) for m in range(1, 13)]


class ArchiveFilterForm(forms.Form):
    """The archive's GET form: works without JavaScript; htmx only swaps the results."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    community = forms.ChoiceField(label=_("Community"), required=False)
    year = forms.TypedChoiceField(label=_("Year"), required=False, coerce=int, empty_value=None)
    month = forms.TypedChoiceField(label=_("Month"), required=False, coerce=int, empty_value=None)
    category = forms.ChoiceField(label=_("Category"), required=False)
    outcome = forms.ChoiceField(label=_("Outcome"), required=False)

    def __init__(self, *args: Any, facets: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        anything: list[tuple[Any, Any]] = [("", _("All"))]
        choice_field(self, "community").choices = anything + [(c["slug"], c["name"]) for c in facets["communities"]]
        choice_field(self, "year").choices = anything + [(str(y), str(y)) for y in facets["years"]]
        choice_field(self, "month").choices = anything + MONTHS
        choice_field(self, "category").choices = anything + list(Category.choices)
        choice_field(self, "outcome").choices = anything + list(Outcome.choices)


class DraftForm(forms.Form):
    """A summary per agenda item (plus one for the whole meeting) and who may read."""

    visibility = forms.ChoiceField(label=_("Who may read these minutes"), choices=Visibility.choices, widget=forms.RadioSelect)
    summary_general = forms.CharField(label=_("Overall summary"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, session: TopicSession, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agenda = list(session.agenda_items.order_by("position"))
        for item in self.agenda:
            self.fields[f"summary_{item.pk}"] = forms.CharField(
                label=_("Summary of “%(title)s”") % {"title": item.title},
                required=False,
                max_length=5000,
                widget=forms.Textarea(attrs={"rows": 4}),
            )

    @staticmethod
    def initial_for(*, summaries: dict[str, str], visibility: str) -> dict[str, str]:
        initial = {f"summary_{key}": text for key, text in summaries.items()}
        initial["visibility"] = visibility
        return initial

    def summaries(self) -> dict[str, str]:
        return {name.removeprefix("summary_"): value for name, value in self.cleaned_data.items() if name.startswith("summary_")}


class CorrectionForm(DraftForm):
    reason = forms.CharField(label=_("What does this correction change, and why?"), max_length=300)

    def __init__(self, *args: Any, session: TopicSession, **kwargs: Any) -> None:
        super().__init__(*args, session=session, **kwargs)
        self.fields.pop("visibility")


class ActionItemForm(forms.Form):
    what = forms.CharField(label=_("What is to be done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    responsible = forms.CharField(label=_("Responsible party"), max_length=120, help_text=_("A department, the property company …"))
    due_on = forms.DateField(label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    resolution = forms.TypedChoiceField(label=_("Resolution"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args: Any, resolutions: Sequence[dict[str, Any]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if resolutions:
            choice_field(self, "resolution").choices = [("", _("None"))] + [(str(r["id"]), r["text"][:80]) for r in resolutions]
        else:
            self.fields.pop("resolution")


class ActionUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ActionStatus.choices)
    note = forms.CharField(label=_("Progress note (public)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    drop_reason = forms.CharField(label=_("Reason, if dropped"), required=False, max_length=300)


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How satisfied are you with the result?"),
        choices=[(str(n), str(n)) for n in range(5, 0, -1)],
        coerce=int,
        widget=forms.RadioSelect,
    )


class NeedForm(forms.Form):
    text = forms.CharField(label=_("What is the problem?"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices, initial=Category.OTHER)
    building = forms.ModelChoiceField(
        label=_("Building"), queryset=Building.objects.none(), required=False, empty_label=_("Whole community")
    )

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "building").queryset = Building.objects.filter(community=community).order_by("name")


class NeedToSessionForm(forms.Form):
    title = forms.CharField(label=_("Session title"), max_length=120)
    starts_at = forms.DateTimeField(
        label=_("Starts at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
