from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agora.infra.forms import model_choice_field
from agora.roster.models import Community, Tag
from agora.roster.names import display_name
from sessions.models import Category, TopicSession


class TopicSessionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 5}), required=False, max_length=5000)
    starts_at = forms.DateTimeField(
        label=_("Starts at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    place = forms.CharField(label=_("Place"), max_length=120, required=False)
    audience_tags = forms.ModelMultipleChoiceField(
        label=_("Audience"),
        queryset=Tag.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty to invite all residents; otherwise only residents with one of these tags."),
    )
    observers = forms.ModelMultipleChoiceField(
        label=_("Invited observers"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    agenda = forms.CharField(
        label=_("Agenda (one item per line)"), widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=5000
    )
    # Shown only once a start time in the past was entered: saving it anyway is a choice, not a slip.
    past_ok = forms.BooleanField(label=_("Yes, the start time is in the past on purpose"), required=False)

    def __init__(
        self, *args: Any, community: Community, language: str = "zh-hans", previous_starts_at: datetime | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.previous_starts_at = previous_starts_at
        self.past_warning = False
        model_choice_field(self, "observers").queryset = get_user_model().objects.filter(
            memberships__community=community, memberships__role="observer"
        )
        self.fields["audience_tags"].label_from_instance = lambda tag: tag.label(language)  # type: ignore[attr-defined]
        # An observer by the name people know them by (王科长), not their login (obs_wang).
        model_choice_field(self, "observers").label_from_instance = display_name  # type: ignore[method-assign,assignment]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts_at = data.get("starts_at")
        previous = self.previous_starts_at.replace(second=0, microsecond=0) if self.previous_starts_at else None
        changed = starts_at is not None and starts_at != previous
        if starts_at is not None and changed and starts_at_in_past(starts_at=starts_at, now=timezone.now()) and not data.get("past_ok"):
            self.past_warning = True
            self.add_error(
                "starts_at",
                _("This start time is in the past. Check the date and time, or tick the box below to save it anyway."),
            )
        return data

    def session_fields(self) -> dict[str, Any]:
        """The session's fields as the services take them (the agenda apart: only a new session has one)."""
        fields = ("title", "category", "description", "starts_at", "place", "audience_tags", "observers")  # not past_ok
        return {name: self.cleaned_data[name] for name in fields}

    @staticmethod
    def initial_for(session: TopicSession) -> dict[str, object]:
        return {
            "title": session.title,
            "category": session.category,
            "description": session.description,
            "starts_at": timezone.localtime(session.starts_at).strftime("%Y-%m-%dT%H:%M"),
            "place": session.place,
            "audience_tags": list(session.audience_tags.all()),
            "observers": list(session.observers.all()),
        }


def starts_at_in_past(*, starts_at: datetime, now: datetime) -> bool:
    """A start time before now (to the minute the form shows): the moderator is warned once."""
    return starts_at < now.replace(second=0, microsecond=0)


class MessageForm(forms.Form):
    text = forms.CharField(label=_("Your comment"), widget=forms.Textarea(attrs={"rows": 3}))
    # One per page built (the view makes it): a form sent twice (a double tap, a refresh after a
    # lost answer) is stored once, as message.post's key does on the WebSocket (docs/protocol.md).
    idempotency_key = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    @staticmethod
    def new_key() -> str:
        return secrets.token_urlsafe(24)  # 32 of A-Za-z0-9_-
