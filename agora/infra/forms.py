"""Typed access to a form's declared fields: ``form.fields`` is typed as plain ``Field``s, so
setting ``choices`` or ``queryset`` on one needs its real class (checked, not assumed)."""

from __future__ import annotations

from typing import Any

from django import forms


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """The form's declared ChoiceField ``name`` (``form.fields`` is typed as plain Fields)."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{name} is not a ChoiceField")
    return field


def model_choice_field(form: forms.BaseForm, name: str) -> forms.ModelChoiceField[Any]:
    """The form's declared ModelChoiceField ``name``."""
    field = form.fields[name]
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{name} is not a ModelChoiceField")
    return field


def choice_pairs(form: forms.BaseForm, name: str) -> list[Any]:
    """The (value, label) pairs of a declared ChoiceField, as Django keeps them once set (a list)."""
    choices = choice_field(form, name).choices
    if not isinstance(choices, list):
        raise TypeError(f"{name} has lazy choices")
    return choices
