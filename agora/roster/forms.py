"""The forms of the roster pages: what a moderator types, checked, kept when shown again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.utils.translation import gettext_lazy as _

from agora.roster.models import Community, Grid, Role


class RosterFileForm(forms.Form):
    file = forms.FileField(
        label=_("Roster file (CSV or Excel .xlsx)"),
        error_messages={"required": _("Choose a roster file first."), "empty": _("The file is empty.")},
    )


class StaffAddForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=[(Role.GRID_WORKER, Role.GRID_WORKER.label), (Role.OBSERVER, Role.OBSERVER.label)])
    full_name = forms.CharField(label=_("Name"), max_length=150)
    username = forms.RegexField(
        label=_("Login name"),
        max_length=150,
        regex=r"^[\w.@+-]+$",
        error_messages={"invalid": _("A login name has letters, digits and . @ + - _ only, without spaces.")},
    )
    title = forms.CharField(label=_("Title (optional)"), max_length=60, required=False, help_text=_("e.g. property company, grid 1"))
    grids = forms.ModelMultipleChoiceField(
        label=_("Grids covered"), queryset=Grid.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grids"].queryset = Grid.objects.filter(community=community).order_by("name")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("role") == Role.GRID_WORKER and not data.get("grids") and self.fields["grids"].queryset.exists():  # type: ignore[attr-defined]
            self.add_error("grids", _("Choose the grids this grid worker covers."))
        return data


class GridsForm(forms.Form):
    grids = forms.ModelMultipleChoiceField(
        label=_("Grids covered"), queryset=Grid.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, community: Community, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grids"].queryset = Grid.objects.filter(community=community).order_by("name")  # type: ignore[attr-defined]


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code on your invitation sheet"),
        max_length=40,
        error_messages={"required": _("Type the code printed on your sheet.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "characters", "spellcheck": "false"}),
    )


class ChoosePasswordForm(SetPasswordForm):
    """The person's own new password, typed twice (Django's validators)."""
