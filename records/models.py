"""Minutes (会议纪要), their hash chain and search index, follow-up (落实事项) and the needs list (需求清单)."""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from agora.roster.models import Building, Community
from sessions.models import Category, TopicSession


class Visibility(models.TextChoices):
    MEMBERS = "members", _("Community members only")
    PUBLIC = "public", _("Public")


class Outcome(models.TextChoices):
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Not passed")
    MIXED = "mixed", _("Some passed")
    NONE = "none", _("No vote")


class RecordKind(models.TextChoices):
    ORIGINAL = "original", _("Minutes")
    CORRECTION = "correction", _("Correction")


class MinutesDraft(models.Model):
    """What the moderator writes before publishing: a summary per agenda item, and who may read.

    The rest of the minutes (attendance, transcript, motions …) is generated from the
    session each time, so the draft never goes stale; publishing freezes it.
    """

    session = models.OneToOneField(TopicSession, on_delete=models.CASCADE, related_name="minutes_draft")
    summaries = models.JSONField(default=dict, blank=True)  # {"<agenda item id>" | "general": cleaned text}
    visibility = models.CharField(_("who may read"), max_length=10, choices=Visibility.choices, default=Visibility.MEMBERS)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("minutes draft")
        verbose_name_plural = _("minutes drafts")


class ChainHead(models.Model):
    """The newest published record of a community. Publishing locks this row (select_for_update)."""

    community = models.OneToOneField(Community, on_delete=models.PROTECT, related_name="minutes_chain_head")
    head_hash = models.CharField(max_length=64)
    length = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("minutes chain head")
        verbose_name_plural = _("minutes chain heads")


class MinutesRecord(models.Model):
    """Published minutes: immutable canonical JSON, its SHA-256 and the previous record's hash.

    The browse columns (title, category, outcome, visibility, kind, held_on, published_at,
    published_by) are copies taken from the canonical content for indexed filtering and
    display; the verifier checks each agrees with the seal (records/verification.py).
    """

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="minutes_records")
    session = models.ForeignKey(TopicSession, on_delete=models.PROTECT, related_name="minutes_records")
    seq = models.PositiveIntegerField()
    prev_hash = models.CharField(max_length=64)
    content_hash = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=12, choices=RecordKind.choices, default=RecordKind.ORIGINAL)
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections")
    title = models.CharField(_("title"), max_length=200)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    visibility = models.CharField(_("who may read"), max_length=10, choices=Visibility.choices)
    held_on = models.DateField(_("held on"))
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Last column on purpose: SQLite stores a long value in overflow pages, and every column
    # after it would be read through them. Listing and search read only the columns above.
    canonical = models.TextField()

    class Meta:
        verbose_name = _("published minutes")
        verbose_name_plural = _("published minutes")
        ordering = ["-held_on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["community", "seq"], name="minutes_chain_unique_seq"),
            # Two publications that read the same head would share a prev_hash: the chain cannot fork.
            models.UniqueConstraint(fields=["community", "prev_hash"], name="minutes_chain_no_fork"),
        ]
        indexes = [
            models.Index(fields=["visibility", "held_on"], name="minutes_vis_held"),
            models.Index(fields=["community", "held_on"], name="minutes_comm_held"),
            models.Index(fields=["category", "held_on"], name="minutes_cat_held"),
            models.Index(fields=["outcome", "held_on"], name="minutes_outcome_held"),
            models.Index(fields=["session", "seq"], name="minutes_session_seq"),
            models.Index(fields=["kind", "session"], name="minutes_kind_session"),
        ]

    def __str__(self) -> str:
        return self.title

    @cached_property
    def document(self) -> dict[str, Any]:
        return json.loads(self.canonical)

    @property
    def content(self) -> dict[str, Any]:
        return self.document["minutes"]


class SearchToken(models.Model):
    """One search token (CJK character / bigram, or a lowercase word) of one record.

    ``fields`` is a bitmask of where it occurs (records/search.py FIELD_*).
    """

    record = models.ForeignKey(MinutesRecord, on_delete=models.CASCADE, related_name="search_tokens")
    token = models.CharField(max_length=32)
    fields = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "record"], name="search_token_once")]


class ActionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


class ActionItem(models.Model):
    """A follow-up task (落实事项) of a session, usually of one of its resolutions."""

    session = models.ForeignKey(TopicSession, on_delete=models.CASCADE, related_name="action_items")
    resolution = models.ForeignKey(
        "voting.Resolution", on_delete=models.PROTECT, null=True, blank=True, related_name="action_items", verbose_name=_("resolution")
    )
    what = models.TextField(_("what is to be done"))
    responsible = models.CharField(_("responsible party"), max_length=120, help_text=_("A department, the property company …"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("responsible moderator"))
    due_on = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=ActionStatus.choices, default=ActionStatus.PENDING)
    drop_reason = models.CharField(_("reason for dropping"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("action item")
        verbose_name_plural = _("action items")
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["status", "due_on"], name="action_status_due")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(status="dropped") | ~models.Q(drop_reason=""), name="action_dropped_has_reason")
        ]

    def __str__(self) -> str:
        return self.what[:60]


class ActionUpdate(models.Model):
    """A public progress note on an action item; a status change is one too."""

    item = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="updates")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(blank=True)
    status_from = models.CharField(max_length=12, choices=ActionStatus.choices, blank=True)
    status_to = models.CharField(max_length=12, choices=ActionStatus.choices, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]


class SatisfactionRating(models.Model):
    """A resident's satisfaction (满意度) with a done action item: 1–5, one each, changeable."""

    item = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="ratings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(_("satisfaction"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "user"], name="satisfaction_one_per_resident"),
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="satisfaction_1_to_5"),
        ]


class NeedStatus(models.TextChoices):
    OPEN = "open", _("Open")
    MERGED = "merged", _("Merged into another")
    IN_SESSION = "in_session", _("Became a topic session")


class Need(models.Model):
    """An issue a resident raised on the needs list (需求清单)."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="needs")
    building = models.ForeignKey(Building, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("building"))
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, default=Category.OTHER)
    text = models.TextField(_("what is the problem"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(_("status"), max_length=12, choices=NeedStatus.choices, default=NeedStatus.OPEN)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="duplicates")
    session = models.ForeignKey(TopicSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="needs")
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["community", "status", "created_at"], name="need_comm_status")]

    def __str__(self) -> str:
        return self.text[:60]


class NeedSupport(models.Model):
    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="supports")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["need", "user"], name="need_support_once")]
