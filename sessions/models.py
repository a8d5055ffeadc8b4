"""Topic sessions (议事专场) and their live discussion."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agora.roster.models import Community, Tag


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
    # The agenda item under discussion: messages and motions belong to it (sessions.meeting moves it).
    current_agenda_item = models.ForeignKey(
        "AgendaItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("current agenda item")
    )
    # Slow mode: at most one message per this many seconds per person (0: off). Moderators are exempt.
    slow_mode_seconds = models.PositiveIntegerField(_("slow mode (seconds between messages)"), default=0)

    class Meta:
        verbose_name = _("topic session")
        verbose_name_plural = _("topic sessions")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["community", "state", "starts_at"])]

    def __str__(self) -> str:
        return self.title


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


class AgendaItemState(models.TextChoices):
    PENDING = "pending", _("Not yet discussed")
    CURRENT = "current", _("Under discussion")
    DONE = "done", _("Done")


class AgendaItem(models.Model):
    session = models.ForeignKey(TopicSession, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    planned_minutes = models.PositiveIntegerField(_("planned minutes"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=AgendaItemState.choices, default=AgendaItemState.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session", "position"]
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        constraints = [models.UniqueConstraint(fields=["session", "position"], name="agenda_unique_position")]

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
    hidden_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    hidden_at = models.DateTimeField(null=True, blank=True)
    # The client's idempotency key (one per composed message): a post resent after a dropped
    # connection is recognised and answered with this message, not stored twice. "" = none given.
    idempotency_key = models.CharField(max_length=100, blank=True, default="")
    # Not stored: set by sessions.services.message_post, True when the post was a resend of this one.
    replayed: bool = False

    class Meta:
        ordering = ["session", "seq"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(fields=["session", "seq"], name="message_unique_seq"),
            models.UniqueConstraint(
                fields=["session", "author", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="message_unique_idempotency_key",
            ),
        ]
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


# --- Running a hybrid meeting (sessions/meeting/) ---------------------------------------


class MeetingRoom(models.Model):
    """The hybrid room of a session: its short join code, check-in and projector secrets."""

    session = models.OneToOneField(TopicSession, on_delete=models.CASCADE, related_name="meeting_room")
    # Typed by people (扫码入会 / 输入入会码): short, from an alphabet without look-alikes.
    join_code = models.CharField(_("join code"), max_length=12, unique=True)
    # Secrets in URLs: the door check-in QR code and the projector (大屏) link.
    checkin_token = models.CharField(max_length=64, unique=True)
    projector_token = models.CharField(max_length=64, unique=True)
    # Default time limit per speaker (0: none); the moderator may set another when giving the floor.
    speaker_limit_seconds = models.PositiveIntegerField(_("time limit per speaker (seconds)"), default=0)
    # People in the room who are not on the roster (guests), counted by the moderator.
    guests_in_room = models.PositiveIntegerField(_("guests in the room"), default=0)
    # What the big screen shows, chosen by the moderator (sessions/meeting/projector.py SCREENS):
    # "auto" follows the meeting (an open vote, else the floor); a result names its motion.
    screen = models.CharField(_("what the big screen shows"), max_length=10, default="auto")
    screen_motion_id = models.PositiveIntegerField(null=True, blank=True)
    screen_sound = models.BooleanField(_("sound before speaking time runs out"), default=False)

    class Meta:
        verbose_name = _("meeting room")
        verbose_name_plural = _("meeting rooms")


class FloorRequestState(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    SPEAKING = "speaking", _("Speaking")
    DONE = "done", _("Has spoken")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class FloorRequest(models.Model):
    """A raised hand (举手) in the speakers' queue, and the turn that follows it.

    ``user`` is empty for someone in the room whom the moderator added by name only.
    """

    session = models.ForeignKey(TopicSession, on_delete=models.CASCADE, related_name="floor_requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    name = models.CharField(_("name"), max_length=60)
    in_room = models.BooleanField(default=False)
    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    state = models.CharField(max_length=10, choices=FloorRequestState.choices, default=FloorRequestState.WAITING)
    raised_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    limit_seconds = models.PositiveIntegerField(null=True, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["session", "raised_at", "pk"]
        verbose_name = _("request to speak")
        verbose_name_plural = _("requests to speak")
        constraints = [
            # One hand up per person; one speaker at a time.
            models.UniqueConstraint(
                fields=["session", "user"],
                condition=models.Q(state__in=["waiting", "speaking"], user__isnull=False),
                name="floor_one_open_request_per_user",
            ),
            models.UniqueConstraint(fields=["session"], condition=models.Q(state="speaking"), name="floor_one_speaker"),
            models.CheckConstraint(
                condition=~models.Q(state="speaking") | models.Q(started_at__isnull=False),
                name="floor_speaking_has_start",
            ),
        ]


class ModerationAction(models.Model):
    """The moderators' log of a session: who did what, when, to whom, and why. Never edited."""

    session = models.ForeignKey(TopicSession, on_delete=models.CASCADE, related_name="moderation_actions")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=40, db_index=True)
    target_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["session", "at", "pk"]
        verbose_name = _("moderation action")
        verbose_name_plural = _("moderation actions")


class CheckInMethod(models.TextChoices):
    DOOR = "door", _("Checked in at the door")
    SELF = "self", _("Scanned the check-in code")


class Attendance(models.Model):
    """One person's attendance: online (joined live), in the room (checked in), or both.

    Presence rows vanish when a connection closes; this row stays for the minutes.
    """

    session = models.ForeignKey(TopicSession, on_delete=models.CASCADE, related_name="attendances")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    online_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    check_in_method = models.CharField(max_length=10, choices=CheckInMethod.choices, blank=True)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="attendance_once_per_person")]
