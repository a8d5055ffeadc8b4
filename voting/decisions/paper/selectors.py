"""Reads of paper ballots: who may use the paper pages, a typed code, what an entry of it will
do, the register, and the lists of entries, mismatches and conflicts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import Count, Q
from django.http import Http404
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from agora.infra.errors import NotAllowed, Refused
from agora.roster.models import Building
from agora.roster.names import display_name
from agora.roster.roles import AnyUser
from voting.decisions.ballots import CHANNEL_SENTENCES, when_text
from voting.decisions.paper.codes import code_printed, code_typed, code_valid
from voting.decisions.rules import decision_facts, manages, reads
from voting.models import BallotCode, Channel, Decision, DecisionState, DecisionVote, PaperEntry, VoteState
from voting.units import DecisionUnit, area_refusal, decision_unit, decision_units, needs_area

# A moderator prepares, prints, issues and enters paper ballots from the notice until the close.
PREPARES_IN = {DecisionState.ANNOUNCED, DecisionState.OPEN}


def access_paper(user: AnyUser, decision_id: int) -> Decision:
    """The decision whose paper ballots this person handles (a moderator of its community).
    Someone who may not read the decision gets a 404; a member who reads it, ``NotAllowed``."""
    decision = Decision.objects.select_related("community").filter(pk=decision_id).first()
    if decision is None:
        raise Http404
    facts = decision_facts(user=user, decision=decision)
    if not reads(facts, decision):
        raise Http404
    if not manages(facts):
        raise NotAllowed(_("Only a moderator of this community handles the paper ballots."))
    return decision


def clerk_refusal(user: AnyUser, decision: Decision) -> NotAllowed | None:
    """The services' own check (a view has called ``access_paper`` already)."""
    if manages(decision_facts(user=user, decision=decision)):
        return None
    return NotAllowed(_("Only a moderator of this community handles the paper ballots."))


def ballot_code_find(decision: Decision, typed: str) -> BallotCode:
    """The ballot code typed or scanned for this decision, or a refusal that names the code."""
    code = code_typed(typed)
    if not code:
        raise Refused(_("Please type or scan the code printed on the ballot."), code="no_code")
    shown = code_printed(code)
    if not code_valid(code):
        raise Refused(
            _(
                "%(code)s is not a ballot code: a character is typed wrong or missing (the last character checks the others). "
                "Please compare it with the ballot."
            )
            % {"code": shown},
            code="code_typo",
        )
    found = BallotCode.objects.select_related("decision").filter(code=code).first()
    if found is None:
        raise Refused(_("No paper ballot has the code %(code)s. Please compare it with the ballot.") % {"code": shown}, code="code_unknown")
    if found.decision_id != decision.pk:
        if found.decision.community_id == decision.community_id:
            raise Refused(
                _("The code %(code)s belongs to a ballot of another decision (%(title)s), not this one. Please enter it there.")
                % {"code": shown, "title": found.decision.title},
                code="code_other",
            )
        raise Refused(_("The code %(code)s belongs to a ballot of another decision, not this one.") % {"code": shown}, code="code_other")
    return found


@dataclass(frozen=True)
class Stage:
    """What entering this ballot now does."""

    kind: str  # "first", "second" (double entry), "conflict" (the unit voted another way)
    code: BallotCode
    unit: DecisionUnit
    vote: DecisionVote | None  # the held vote (second), the unit's other vote (conflict)
    first_clerk: str = ""

    @property
    def printed(self) -> str:
        return code_printed(self.code.code)

    @property
    def other_sentence(self) -> str:
        if self.vote is None:
            return ""
        return str(
            _("This unit already voted %(how)s, at %(time)s. This paper ballot is not counted; it goes to the conflict list.")
            % {"how": CHANNEL_SENTENCES.get(self.vote.channel, self.vote.channel), "time": when_text(self.vote.at)}
        )


def _entry_of(vote: DecisionVote, round_: int) -> PaperEntry | None:
    return PaperEntry.objects.select_related("entered_by").filter(vote=vote, round=round_).first()


def entry_stage(decision: Decision, code: BallotCode, *, clerk: User) -> Stage:
    """What entering the ballot of ``code`` by ``clerk`` does now, or why it is refused. A code
    already used is refused first, before the roster is read (most of a busy desk's refusals)."""
    shown = code_printed(code.code)
    own = DecisionVote.objects.filter(decision=decision, code=code).exclude(state=VoteState.VOIDED).first()
    first = _entry_of(own, 1) if own is not None else None
    if own is not None and not (own.state == VoteState.AWAITING_CHECK and decision.double_entry):
        if own.state == VoteState.MISMATCH:
            raise Refused(
                _("The ballot %(code)s was entered twice and the two readings disagree; it waits for a moderator's review.")
                % {"code": shown},
                code="mismatch",
            )
        raise Refused(
            _("The ballot %(code)s was already entered, at %(time)s by %(clerk)s. A code is used once.")
            % {"code": shown, "time": when_text(first.at if first else own.at), "clerk": display_name(first.entered_by) if first else ""},
            code="code_used",
        )
    if own is not None and first is not None and first.entered_by_id == clerk.pk:
        raise Refused(
            _("You entered the ballot %(code)s the first time. A second clerk must enter it again to check it.") % {"code": shown},
            code="same_clerk",
        )
    unit = decision_unit(decision, code.unit_key)
    if unit is None:
        raise Refused(_("This ballot's unit is no longer on the decision's roster. Please ask the residents' committee."), code="no_unit")
    if needs_area(decision) and not unit.has_area:
        raise Refused(area_refusal(unit), code="no_area")
    if own is not None:
        return Stage("second", code, unit, own, display_name(first.entered_by) if first else "")
    other = DecisionVote.objects.filter(decision=decision, unit_key=code.unit_key).exclude(state=VoteState.VOIDED).first()
    if other is not None and other.code_id == code.pk:
        # another clerk's entry of this very ballot committed while the roster was read
        return entry_stage(decision, code, clerk=clerk)
    if other is not None:
        return Stage("conflict", code, unit, other)
    return Stage("first", code, unit, None)


@dataclass(frozen=True)
class Summary:
    units: int
    codes: int
    issued: int
    returned: int
    counted: int
    awaiting: int
    mismatches: int
    conflicts: int
    voided: int


def paper_summary(decision: Decision, *, units: int) -> Summary:
    codes = BallotCode.objects.filter(decision=decision).aggregate(
        n=Count("pk"), issued=Count("pk", filter=Q(issued_at__isnull=False)), returned=Count("pk", filter=Q(returned_at__isnull=False))
    )
    votes = DecisionVote.objects.filter(decision=decision, channel=Channel.PAPER).aggregate(
        counted=Count("pk", filter=Q(state=VoteState.COUNTED)),
        awaiting=Count("pk", filter=Q(state=VoteState.AWAITING_CHECK)),
        mismatches=Count("pk", filter=Q(state=VoteState.MISMATCH)),
        voided=Count("pk", filter=Q(state=VoteState.VOIDED)),
    )
    return Summary(
        units=units,
        codes=codes["n"],
        issued=codes["issued"],
        returned=codes["returned"],
        counted=votes["counted"],
        awaiting=votes["awaiting"],
        mismatches=votes["mismatches"],
        conflicts=len(paper_conflicts(decision)),
        voided=votes["voided"],
    )


@dataclass(frozen=True)
class RegisterRow:
    unit: DecisionUnit
    code: BallotCode | None
    vote: DecisionVote | None  # the unit's ballot, whatever the channel

    @property
    def printed(self) -> str:
        return code_printed(self.code.code) if self.code else ""

    @property
    def status(self) -> str | Promise:
        vote = self.vote
        if vote is not None:
            if vote.code_id is not None and self.code is not None and vote.code_id == self.code.pk:
                labels: dict[str, str | Promise] = {
                    VoteState.COUNTED: _("entered, counted"),
                    VoteState.AWAITING_CHECK: _("entered, awaiting second entry"),
                    VoteState.MISMATCH: _("entries disagree: review"),
                }
                return labels.get(vote.state, "")
            if self.code is not None and self.code.returned_at is not None:
                return _("returned: conflict (voted %(how)s)") % {"how": CHANNEL_SENTENCES.get(vote.channel, vote.channel)}
            return _("voted %(how)s") % {"how": CHANNEL_SENTENCES.get(vote.channel, vote.channel)}
        if self.code is not None and self.code.returned_at is not None:
            return _("returned, not counted")
        if self.code is not None and self.code.issued_at is not None:
            return _("issued, not returned")
        return _("not issued")


def register_rows(decision: Decision, *, building_id: int | None) -> list[RegisterRow]:
    units = decision_units(decision, building_id=building_id)
    keys = [u.unit_key for u in units]
    codes = {
        c.unit_key: c for c in BallotCode.objects.filter(decision=decision, unit_key__in=keys).select_related("issued_by", "returned_by")
    }
    votes = {v.unit_key: v for v in DecisionVote.objects.filter(decision=decision, unit_key__in=keys).exclude(state=VoteState.VOIDED)}
    return [RegisterRow(u, codes.get(u.unit_key), votes.get(u.unit_key)) for u in units]


def decision_buildings(decision: Decision) -> list[Building]:
    chosen = list(decision.buildings.order_by("name"))
    return chosen or list(Building.objects.filter(community_id=decision.community_id).order_by("name"))


@dataclass(frozen=True)
class EntryRow:
    vote: DecisionVote
    unit_label: str
    printed: str
    entries: list[PaperEntry]


def paper_entries(decision: Decision, *, state: str | None = None) -> list[EntryRow]:
    """The paper ballots entered (not voided), newest first; ``state``: only those in it."""
    votes = DecisionVote.objects.filter(decision=decision, channel=Channel.PAPER).exclude(state=VoteState.VOIDED)
    if state is not None:
        votes = votes.filter(state=state)
    votes = votes.select_related("code").prefetch_related("paper_entries__entered_by").order_by("-at", "-pk")
    labels = {u.unit_key: u.label for u in decision_units(decision)}
    return [
        EntryRow(v, labels.get(v.unit_key, v.unit_key), code_printed(v.code.code) if v.code else "", list(v.paper_entries.all()))
        for v in votes
    ]


@dataclass(frozen=True)
class ConflictRow:
    code: BallotCode
    unit_label: str
    returned_at: datetime
    returned_by: str
    vote: DecisionVote | None  # how the unit voted (None: that ballot was voided since)

    @property
    def printed(self) -> str:
        return code_printed(self.code.code)

    @property
    def how(self) -> str | Promise:
        if self.vote is None:
            return _("no counted ballot now: the paper ballot can be entered")
        return CHANNEL_SENTENCES.get(self.vote.channel, self.vote.channel)


def paper_conflicts(decision: Decision) -> list[ConflictRow]:
    """Paper ballots that came back for a unit that had voted another way: returned, not entered."""
    entered = DecisionVote.objects.filter(decision=decision, code__isnull=False).exclude(state=VoteState.VOIDED).values("code_id")
    codes = list(
        BallotCode.objects.filter(decision=decision, returned_at__isnull=False)
        .exclude(pk__in=entered)
        .select_related("returned_by")
        .order_by("-returned_at")
    )
    if not codes:
        return []
    votes = {
        v.unit_key: v
        for v in DecisionVote.objects.filter(decision=decision, unit_key__in=[c.unit_key for c in codes]).exclude(state=VoteState.VOIDED)
    }
    labels = {u.unit_key: u.label for u in decision_units(decision)}
    out = []
    for code in codes:
        assert code.returned_at is not None
        out.append(
            ConflictRow(
                code, labels.get(code.unit_key, code.unit_key), code.returned_at, display_name(code.returned_by), votes.get(code.unit_key)
            )
        )
    return out
