"""Motions (议案), ballots (选票), in-person counts and resolutions (决议).

Secrecy by construction: :class:`Ballot` (what was voted) has no voter column, a random
UUID key and no timestamp; :class:`Participation` (who voted) is a separate table. For an
open (记名) motion the participation points at its ballot; for a secret one it never does.
One counted ballot per voting unit is a unique constraint on (motion, unit_key).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from agora.roster.models import Household
from sessions.models import AgendaItem, TopicSession
from voting.models.channels import Channel
from voting.models.decisions import Decision


class MotionKind(models.TextChoices):
    APPROVE_REJECT = "approve_reject", _("Approve / reject")
    SINGLE = "single", _("Single choice")
    APPROVAL = "approval", _("Approval (any number of options)")
    RANKED = "ranked", _("Ranked (instant runoff)")
    ART278 = "art278", _("Owners' joint decision (Civil Code Art. 278)")


class MotionState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Voting open")
    CLOSED = "closed", _("Closed")


class Eligibility(models.TextChoices):
    AUDIENCE = "audience", _("The session's audience")
    OWNERS = "owners", _("Owners only")


class BallotUnit(models.TextChoices):
    PERSON = "person", _("One ballot per person")
    HOUSEHOLD = "household", _("One ballot per household")


class WeightMode(models.TextChoices):
    EQUAL = "equal", _("Equal weight")
    AREA = "area", _("Weighted by exclusive floor area")


class Base(models.TextChoices):
    YES_NO = "yes_no", _("Yes + no")
    YES_NO_ABSTAIN = "yes_no_abstain", _("Yes + no + abstain")
    ALL_ELIGIBLE = "all_eligible", _("All eligible voters")


class Threshold(models.TextChoices):
    # The same codes as voting.counting.types.Threshold.
    MORE_THAN_HALF = "more_than_half", _("More than 1/2")
    AT_LEAST_TWO_THIRDS = "at_least_two_thirds", _("At least 2/3")
    AT_LEAST_THREE_QUARTERS = "at_least_three_quarters", _("At least 3/4")


class Outcome(models.TextChoices):
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    NO_QUORUM = "no_quorum", _("No quorum")
    TIE = "tie", _("Tie")
    WINNER = "winner", _("Decided")


class Motion(models.Model):
    # A motion is held in a live session (``session``) or is a matter (事项) of an owners'
    # decision held over days (``decision``, ``position``): exactly one of the two.
    session = models.ForeignKey(TopicSession, on_delete=models.CASCADE, null=True, blank=True, related_name="motions")
    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, null=True, blank=True, related_name="matters")
    position = models.PositiveSmallIntegerField(default=0)
    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="motions")
    text = models.CharField(_("motion"), max_length=300)
    description = models.TextField(_("details"), blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=MotionKind.choices, default=MotionKind.APPROVE_REJECT)
    state = models.CharField(_("state"), max_length=10, choices=MotionState.choices, default=MotionState.DRAFT)
    eligibility = models.CharField(_("who may vote"), max_length=10, choices=Eligibility.choices, default=Eligibility.AUDIENCE)
    ballot_unit = models.CharField(_("ballots"), max_length=10, choices=BallotUnit.choices, default=BallotUnit.PERSON)
    weight_mode = models.CharField(_("weights"), max_length=10, choices=WeightMode.choices, default=WeightMode.EQUAL)
    base = models.CharField(_("majority of"), max_length=20, choices=Base.choices, default=Base.YES_NO)
    threshold = models.CharField(_("threshold"), max_length=30, choices=Threshold.choices, default=Threshold.MORE_THAN_HALF)
    # The quorum as an exact fraction of the eligible (2/3 is 2 and 3, never 67 %); both empty: none.
    quorum_numerator = models.PositiveIntegerField(_("quorum numerator"), null=True, blank=True)
    quorum_denominator = models.PositiveIntegerField(_("quorum denominator"), null=True, blank=True)
    major_matter = models.BooleanField(_("major matter (3/4 under Art. 278)"), default=False)
    secret = models.BooleanField(_("secret ballot"), default=True)
    allow_change = models.BooleanField(_("ballots may be changed until close"), default=True)
    results_live = models.BooleanField(_("show results while voting"), default=False)
    max_choices = models.PositiveSmallIntegerField(_("at most this many choices (approval)"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes automatically at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    # Null with closed_at set: closed automatically at closes_at.
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["session", "decision", "position", "created_at", "pk"]
        verbose_name = _("motion")
        verbose_name_plural = _("motions")
        indexes = [models.Index(fields=["state", "closes_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quorum_denominator__isnull=True, quorum_numerator__isnull=True)
                | models.Q(quorum_numerator__gte=1, quorum_numerator__lte=models.F("quorum_denominator")),
                name="motion_quorum_fraction_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="closed") | models.Q(closed_at__isnull=False),
                name="motion_closed_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(session__isnull=False, decision__isnull=True) | models.Q(session__isnull=True, decision__isnull=False),
                name="motion_in_session_or_decision",
            ),
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def room(self) -> TopicSession:
        """The live session of a motion held in one (every path of the live room)."""
        if self.session is None:
            raise ValueError(f"motion {self.pk} is a matter of decision {self.decision_id}, not held in a session")
        return self.session

    @property
    def room_id(self) -> int:
        if self.session_id is None:
            raise ValueError(f"motion {self.pk} is a matter of decision {self.decision_id}, not held in a session")
        return self.session_id

    @property
    def is_open(self) -> bool:
        return self.state == MotionState.OPEN

    @property
    def quorum(self) -> Fraction | None:
        """The required share of the eligible, exactly; None when no quorum is set."""
        if self.quorum_numerator is None or not self.quorum_denominator:
            return None
        return Fraction(self.quorum_numerator, self.quorum_denominator)

    @property
    def quorum_text(self) -> str:
        """ "50%" when the fraction is a whole percentage, else "2/3"; "" without a quorum."""
        return quorum_text(self.quorum)


def quorum_text(quorum: Fraction | None) -> str:
    if quorum is None:
        return ""
    percent = quorum * 100
    if percent.denominator == 1:
        return f"{percent.numerator}%"
    return f"{quorum.numerator}/{quorum.denominator}"


class MotionOption(models.Model):
    motion = models.ForeignKey(Motion, on_delete=models.CASCADE, related_name="options")
    position = models.PositiveSmallIntegerField()
    # "yes" / "no" / "abstain" for approve/reject and Art. 278; blank for free options.
    code = models.CharField(max_length=10, blank=True)
    label = models.CharField(_("option"), max_length=120)

    class Meta:
        ordering = ["motion", "position"]
        constraints = [models.UniqueConstraint(fields=["motion", "position"], name="option_unique_position")]

    def __str__(self) -> str:
        return self.label


class Ballot(models.Model):
    """What was voted: no voter, random key, no timestamp (see the module docstring)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    motion = models.ForeignKey(Motion, on_delete=models.CASCADE, related_name="ballots")
    # Option ids: one for approve/reject, single choice and Art. 278; a set for approval;
    # an order of preference for ranked.
    choice = models.JSONField()
    weight = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("1"))
    # Art. 278: the owner's total exclusive area (the ballot counts once by headcount).
    area = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    receipt_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")


class SealedBallot(models.Model):
    """A ballot of a secret vote while the vote is open (voting/secrecy.py).

    Its content (choice, weight, area, receipt hash) is sealed with a key that is not in the
    database; it has a random key and no time. Closing opens every sealed ballot, writes the
    plain rows in a random order in one transaction and deletes these, so whoever reads the
    database cannot tie a counted ballot to the participation written beside its sealed row.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    motion = models.ForeignKey(Motion, on_delete=models.CASCADE, related_name="sealed_ballots")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # nonce + AES-256-GCM ciphertext of a padded JSON payload.
    sealed = models.BinaryField()
    # HMAC of the receipt under a key outside the database: finds the ballot to change it.
    # Blank for ballots entered in the room.
    lookup = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        verbose_name = _("sealed ballot")
        verbose_name_plural = _("sealed ballots")


class Participation(models.Model):
    """Who voted (one row per voting unit per motion), never what — unless the motion is open."""

    motion = models.ForeignKey(Motion, on_delete=models.CASCADE, related_name="participations")
    # "u:<user id>", "h:<household id>" or "o:<owner key>": the unit that gets one ballot.
    unit_key = models.CharField(max_length=80)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # Open motions only: the ballot this voter cast.
    ballot = models.OneToOneField(Ballot, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Idempotency: sha256 of the client's key, and the receipt sealed with that key, so a
    # replay gets its receipt back while the database alone cannot link voter and ballot.
    key_digest = models.CharField(max_length=64, blank=True)
    receipt_sealed = models.CharField(max_length=128, blank=True)
    # sha256 of (receipt, unit): proves a change request comes from this unit's own receipt.
    receipt_check = models.CharField(max_length=64, blank=True)
    changes = models.PositiveSmallIntegerField(default=0)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [
            models.UniqueConstraint(fields=["motion", "unit_key"], name="participation_one_per_unit"),
            models.UniqueConstraint(
                fields=["motion", "voter"],
                condition=models.Q(channel="online"),
                name="participation_one_online_per_voter",
            ),
        ]


class InPersonCount(models.Model):
    """Ballots counted in the room (paper or show of hands), entered by a moderator."""

    motion = models.ForeignKey(Motion, on_delete=models.CASCADE, related_name="in_person_counts")
    choice = models.JSONField()
    count = models.PositiveIntegerField()
    weight = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("1"))
    area = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["motion", "entered_at", "pk"]
        verbose_name = _("in-person count")
        verbose_name_plural = _("in-person counts")
        constraints = [models.CheckConstraint(condition=models.Q(count__gte=1), name="in_person_count_positive")]


class Resolution(models.Model):
    """The result of a closed motion, computed once, when it closes (决议)."""

    motion = models.OneToOneField(Motion, on_delete=models.PROTECT, related_name="resolution")
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    # Everything shown in the result, as plain JSON (exact numbers as strings).
    data = models.JSONField()
    receipt_hashes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("resolution")
        verbose_name_plural = _("resolutions")

    def __str__(self) -> str:
        return f"{self.motion} · {self.get_outcome_display()}"
