"""Owners' decisions held over days (书面征求意见 / 业主共同决定): the decision and its steps,
who voted by which channel, paper ballot codes and entries, proxies and objections.

A decision has one or more matters (事项); each matter is a :class:`voting.models.Motion` with
``decision`` set, so ballots, secrecy, receipts and the count are the live motion's own
(docs/decisions-over-days.md). What this module adds:

- :class:`DecisionVote` — the voting unit took part, how (channel) and when, recorded by whom;
  one per unit per decision (a unique index), whatever the channel: the first recorded wins.
  It never says what was voted.
- :class:`DecisionStep` — each step of the lifecycle (announced, extended, opened, closed,
  preliminary result, corrected, final) sealed in the community's decision chain, a chain of
  the same design as the minutes' (agora/infra/hashchain.py). Notices are steps.
- :class:`BallotCode`, :class:`PaperEntry` — the personalised paper ballot's single-use code,
  its issue/return register and the clerks' entries.
- :class:`Proxy` — a written proxy (委托书), guardian or legal representative.
- :class:`Objection` — an owner's objection during the objection window (询异期) and its answer.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from agora.roster.models import Building, Community
from sessions.models import TopicSession
from voting.models.channels import Channel


class DecisionState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ANNOUNCED = "announced", _("Announced")
    OPEN = "open", _("Voting open")
    CLOSED = "closed", _("Voting closed")
    PRELIMINARY = "preliminary", _("Preliminary result published")
    FINAL = "final", _("Final")


class UnitMode(models.TextChoices):
    OWNER = "owner", _("One ballot per owner (units held by one owner count once)")
    HOUSEHOLD = "household", _("One ballot per household")


class Decision(models.Model):
    """An owners' decision (表决事项) of a community, or of some of its buildings."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="decisions")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("details"), blank=True)
    # Empty: the whole community.
    buildings = models.ManyToManyField(Building, blank=True, related_name="decisions", verbose_name=_("buildings"))
    sessions = models.ManyToManyField(TopicSession, blank=True, related_name="decisions", verbose_name=_("discussed in"))
    unit_mode = models.CharField(_("voting unit"), max_length=10, choices=UnitMode.choices, default=UnitMode.OWNER)
    secret = models.BooleanField(_("secret ballot"), default=True)
    results_live = models.BooleanField(_("show counts while voting is open"), default=False)
    state = models.CharField(_("state"), max_length=12, choices=DecisionState.choices, default=DecisionState.DRAFT)
    opens_at = models.DateTimeField(_("voting opens"))
    closes_at = models.DateTimeField(_("voting closes"))
    notice_days = models.PositiveSmallIntegerField(_("notice period (days)"), default=15)
    # Set when the moderator opened the period before the notice period had run; the notice shows it.
    notice_shortened_reason = models.TextField(_("reason for a shorter notice period"), blank=True)
    objection_days = models.PositiveSmallIntegerField(_("objection window (days)"), default=3)
    proxies_per_holder = models.PositiveSmallIntegerField(_("principals per proxy holder"), default=1)
    double_entry = models.BooleanField(_("paper ballots entered twice by different clerks"), default=False)
    # 监票人 / 计票人: owners chosen to supervise and count, named on the final announcement.
    counting_officers = models.JSONField(_("counting officers"), default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    announced_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    preliminary_at = models.DateTimeField(null=True, blank=True)
    objections_close_at = models.DateTimeField(null=True, blank=True)
    final_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opens_at", "pk"]
        verbose_name = _("owners' decision")
        verbose_name_plural = _("owners' decisions")
        indexes = [models.Index(fields=["community", "state"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(closes_at__gt=models.F("opens_at")), name="decision_period_forward"),
            models.CheckConstraint(condition=models.Q(proxies_per_holder__gte=1), name="decision_proxies_at_least_one"),
        ]

    def __str__(self) -> str:
        return self.title


class StepKind(models.TextChoices):
    ANNOUNCED = "announced", _("Decision notice")
    EXTENDED = "extended", _("Extension notice")
    OPENED = "opened", _("Voting opened")
    CLOSED = "closed", _("Voting closed")
    PRELIMINARY = "preliminary", _("Preliminary result")
    CORRECTED = "corrected", _("Correction after recount")
    FINAL = "final", _("Final announcement")


class DecisionStep(models.Model):
    """One step of a decision, sealed in the community's decision chain (agora/infra/hashchain.py):
    ``canonical`` is the envelope's canonical JSON, ``content_hash`` its SHA-256, ``seq`` its place
    in the community's chain and ``prev_hash`` the hash before it. Never updated or deleted."""

    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="decision_steps")
    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="steps")
    kind = models.CharField(max_length=12, choices=StepKind.choices)
    seq = models.PositiveIntegerField()
    prev_hash = models.CharField(max_length=64)
    content_hash = models.CharField(max_length=64, unique=True)
    canonical = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["community", "seq"]
        verbose_name = _("decision step")
        verbose_name_plural = _("decision steps")
        constraints = [models.UniqueConstraint(fields=["community", "seq"], name="decision_step_unique_seq")]

    def __str__(self) -> str:
        return f"{self.decision} · {self.get_kind_display()}"


class VoteState(models.TextChoices):
    COUNTED = "counted", _("Counted")
    # Double entry: the first clerk's entry holds the unit until a second clerk agrees.
    AWAITING_CHECK = "awaiting", _("Awaiting second entry")
    MISMATCH = "mismatch", _("Entries disagree: awaiting review")
    VOIDED = "voided", _("Voided")


class ProxyKind(models.TextChoices):
    PROXY = "proxy", _("Written proxy (委托书)")
    GUARDIAN = "guardian", _("Guardian")
    LEGAL = "legal", _("Legal representative")


class Proxy(models.Model):
    """Who may vote for which voting unit in this decision, and on what paper."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="proxies")
    principal_unit_key = models.CharField(max_length=80)
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="held_proxies")
    kind = models.CharField(_("kind"), max_length=10, choices=ProxyKind.choices, default=ProxyKind.PROXY)
    scope = models.CharField(_("scope"), max_length=200, blank=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    document = models.FileField(_("signed proxy (photo or scan)"), upload_to="proxies/%Y/%m/", blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    revoke_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["decision", "recorded_at", "pk"]
        verbose_name = _("proxy")
        verbose_name_plural = _("proxies")
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "principal_unit_key"],
                condition=models.Q(revoked_at__isnull=True),
                name="proxy_one_live_per_principal",
            ),
            models.CheckConstraint(condition=models.Q(valid_until__gt=models.F("valid_from")), name="proxy_valid_forward"),
        ]


class BallotCode(models.Model):
    """The single-use code printed on one unit's personalised paper ballot (表决票), with its
    issue/return register (发放/回收登记)."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="ballot_codes")
    unit_key = models.CharField(max_length=80)
    code = models.CharField(max_length=20, unique=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    issued_to = models.CharField(_("handed to"), max_length=100, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    returned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["decision", "unit_key"]
        verbose_name = _("ballot code")
        verbose_name_plural = _("ballot codes")
        constraints = [models.UniqueConstraint(fields=["decision", "unit_key"], name="ballot_code_one_per_unit")]


class DecisionVote(models.Model):
    """A voting unit took part in the decision: how, when, recorded by whom — never what.

    One row that is not voided per unit (``decision_vote_one_per_unit``): whichever channel
    records first wins, on PostgreSQL and SQLite alike, and every later one is refused with how
    and when the unit voted. The matters' ballots are the motions' own rows (Participation +
    Ballot or SealedBallot), written in the same transaction once the vote is counted."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="votes")
    unit_key = models.CharField(max_length=80)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    state = models.CharField(max_length=10, choices=VoteState.choices, default=VoteState.COUNTED)
    at = models.DateTimeField()
    # The owner who voted online or in the room; the holder for a proxy; None for paper.
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The clerk or grid worker who entered it (None when the owner voted themselves).
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    proxy = models.ForeignKey(Proxy, on_delete=models.PROTECT, null=True, blank=True, related_name="votes")
    code = models.ForeignKey(BallotCode, on_delete=models.PROTECT, null=True, blank=True, related_name="votes")
    # Door to door: why the owner was helped ("老人不会用手机").
    assisted_reason = models.CharField(max_length=200, blank=True)
    # Double entry of paper: the entered choices until they are counted (then cleared), sealed
    # for a secret decision like any open ballot (voting/secrecy.py).
    pending = models.BinaryField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    void_reason = models.CharField(max_length=200, blank=True)
    # Online: sha256 of the client's idempotency key (a replay gets its receipt back).
    key_digest = models.CharField(max_length=64, blank=True)
    # The vote's receipt sealed with the server's key (voting/secrecy.py), so that a void before
    # close can find the matters' ballots; the database alone cannot open it.
    sealed_receipt = models.BinaryField(null=True, blank=True)

    class Meta:
        ordering = ["decision", "at", "pk"]
        verbose_name = _("decision vote")
        verbose_name_plural = _("decision votes")
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "unit_key"],
                condition=~models.Q(state="voided"),
                name="decision_vote_one_per_unit",
            ),
        ]


class PaperEntry(models.Model):
    """One clerk's entry of a returned paper ballot (the second, with double entry, must agree)."""

    vote = models.ForeignKey(DecisionVote, on_delete=models.CASCADE, related_name="paper_entries")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    round = models.PositiveSmallIntegerField(default=1)
    # sha256 over the entered choices (a secret decision never stores them in plain).
    digest = models.CharField(max_length=64)

    class Meta:
        ordering = ["vote", "round"]
        verbose_name = _("paper ballot entry")
        verbose_name_plural = _("paper ballot entries")
        constraints = [models.UniqueConstraint(fields=["vote", "round"], name="paper_entry_one_per_round")]


class Objection(models.Model):
    """An owner's objection during the objection window (询异期), and the moderator's answer,
    public to members."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="objections")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("objection"))
    at = models.DateTimeField()
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["decision", "at", "pk"]
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
