"""Topic sessions (议事专场) and their live discussion."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from agora.models import Community, Tag


class SessionState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    LIVE = "live", _("Live")
    ADJOURNED = "adjourned", _("Adjourned")
    ARCHIVED = "archived", _("Minutes published")


class Category(models.TextChoices):
    PARKING = "parking", _("Parking")
    RENOVATION = "renovation", _("Renovation")
    ELDERLY_CARE = "elderly_care", _("Elderly care")
    SAFETY = "safety", _("Safety")
    ENVIRONMENT = "environment", _("Environment")
    PROPERTY = "property", _("Property management")
    NEIGHBOURS = "neighbours", _("Neighbour relations")
    OTHER = "other", _("Other")


class TopicSession(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="topic_sessions")
    title = models.CharField(_("title"), max_length=120)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, default=Category.OTHER)
    description = models.TextField(_("description"), blank=True, help_text=_("Cleaned HTML."))
    starts_at = models.DateTimeField(_("starts at"))
    place = models.CharField(_("place"), max_length=120, blank=True)
    state = models.CharField(_("state"), max_length=20, choices=SessionState.choices, default=SessionState.DRAFT)
    audience_tags = models.ManyToManyField(
        Tag,
        blank=True,
        related_name="+",
        verbose_name=_("audience"),
        help_text=_("Empty: all residents. Otherwise residents with any of these tags."),
    )
    observers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="observed_sessions", verbose_name=_("invited observers")
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Highest message sequence number handed out; only message_post moves it, under a row lock.
    last_seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("topic session")
        verbose_name_plural = _("topic sessions")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["community", "state", "starts_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def group_name(self) -> str:
        return f"session.{self.pk}"


class SessionTransition(models.Model):
    """Every move of a session's state: who, when, from, to."""

    session = models.ForeignKey(TopicSession, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=20, choices=SessionState.choices)
    to_state = models.CharField(max_length=20, choices=SessionState.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("session transition")
        verbose_name_plural = _("session transitions")


class AgendaItem(models.Model):
    session = models.ForeignKey(TopicSession, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    planned_minutes = models.PositiveIntegerField(_("planned minutes"), null=True, blank=True)

    class Meta:
        ordering = ["session", "position"]
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        constraints = [
            models.UniqueConstraint(fields=["session", "position"], name="agenda_unique_position")
        ]

    def __str__(self) -> str:
        return self.title


class AttendanceIntent(models.Model):
    """A resident said they will attend (报名)."""

    session = models.ForeignKey(TopicSession, on_delete=models.CASCADE, related_name="attendance_intents")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="attendance_intent_once")]


class Participant(models.Model):
    """Per-session standing of a person: muted or removed by a moderator."""

    session = models.ForeignKey(TopicSession, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    muted = models.BooleanField(default=False)
    removed = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="participant_once")]


class Message(models.Model):
    """A message (发言) in a session's discussion. Stored before it is broadcast."""

    session = models.ForeignKey(TopicSession, on_delete=models.CASCADE, related_name="messages")
    seq = models.PositiveBigIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text_html = models.TextField()
    reply_to = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages")
    before_start = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    pinned = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=200, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    hidden_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "seq"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [models.UniqueConstraint(fields=["session", "seq"], name="message_unique_seq")]
        indexes = [models.Index(fields=["session", "author", "created_at"])]


class ReactionKind(models.TextChoices):
    AGREE = "agree", _("Agree")
    DISAGREE = "disagree", _("Disagree")


class Reaction(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=ReactionKind.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="reaction_one_per_user")]


class Presence(models.Model):
    """One open WebSocket connection. Rows of a crashed process go stale and are ignored."""

    session = models.ForeignKey(TopicSession, on_delete=models.CASCADE, related_name="presences")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200, unique=True)
    building = models.CharField(max_length=50, blank=True)
    connected_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["session", "last_seen"])]
