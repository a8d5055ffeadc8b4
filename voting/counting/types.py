"""Plain data for the counting rules: enums, ballots, results. No Django here.

Every number is exact: weights and shares are ``Fraction``; floor areas are ``Decimal``.
Floats are refused (``TypeError``) so that "exactly 2/3" is never lost to rounding.
Results carry data, never prose: the UI turns ``Outcome``/``Reason`` codes and numbers into
sentences in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

Weight = int | Fraction | Decimal
"""A ballot weight or a total of weights. Never a float."""


def exact(value: Weight) -> Fraction:
    """``value`` as an exact Fraction; refuses floats, bools and non-finite decimals."""
    if isinstance(value, bool) or not isinstance(value, int | Fraction | Decimal):
        raise TypeError(f"exact number expected (int, Fraction or Decimal), got {type(value).__name__}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"finite number expected, got {value}")
    return Fraction(value)


def positive_weight(value: Weight) -> Fraction:
    weight = exact(value)
    if weight <= 0:
        raise ValueError(f"a ballot weight must be positive, got {value}")
    return weight


class Outcome(StrEnum):
    """What a vote decided. Approve/reject and Art. 278: PASSED, FAILED, NO_QUORUM, TIE.
    Choice votes (single choice, approval, ranked): WINNER, TIE, NO_QUORUM."""

    PASSED = "passed"
    FAILED = "failed"
    NO_QUORUM = "no_quorum"
    TIE = "tie"
    WINNER = "winner"


class Reason(StrEnum):
    """Why the outcome is what it is — a code the UI explains in words."""

    QUORUM_NOT_REACHED = "quorum_not_reached"
    THRESHOLD_MET = "threshold_met"
    THRESHOLD_NOT_MET = "threshold_not_met"
    YES_EQUALS_NO = "yes_equals_no"  # TIE: exactly balanced, the majority rule cannot decide
    EMPTY_BASE = "empty_base"  # FAILED: nobody in the base (e.g. zero ballots, no quorum set)
    MOST_VOTES = "most_votes"  # single choice / approval: one option strictly ahead
    TIED_FOR_MOST = "tied_for_most"  # single choice / approval: several options share the top count
    NO_VOTES = "no_votes"  # TIE: no ballot counted for any option
    MAJORITY_OF_CONTINUING = "majority_of_continuing"  # ranked: > 1/2 of continuing ballots
    ALL_REMAINING_TIED = "all_remaining_tied"  # ranked TIE
    ELIMINATION_TIE_UNRESOLVED = "elimination_tie_unresolved"  # ranked TIE: last place undecidable


class Choice(StrEnum):
    """赞成 / 反对 / 弃权."""

    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"


class Base(StrEnum):
    """What the yes share is measured against (approve/reject)."""

    YES_NO = "yes_no"  # abstentions are ignored
    YES_NO_ABSTAIN = "yes_no_abstain"  # abstaining counts like voting no
    ALL_ELIGIBLE = "all_eligible"  # not voting counts like voting no


_THRESHOLD_FRACTION = {
    "more_than_half": Fraction(1, 2),
    "at_least_two_thirds": Fraction(2, 3),
    "at_least_three_quarters": Fraction(3, 4),
}


class Threshold(StrEnum):
    """The share of the base that yes must reach."""

    MORE_THAN_HALF = "more_than_half"  # yes > 1/2 of base (strict)
    AT_LEAST_TWO_THIRDS = "at_least_two_thirds"  # yes >= 2/3 of base
    AT_LEAST_THREE_QUARTERS = "at_least_three_quarters"  # yes >= 3/4 of base

    @property
    def fraction(self) -> Fraction:
        return _THRESHOLD_FRACTION[self.value]

    @property
    def inclusive(self) -> bool:
        """True for "at least" (>=), False for "more than" (>)."""
        return self is not Threshold.MORE_THAN_HALF

    def met(self, yes: Weight, base: Weight) -> bool:
        """Whether ``yes`` reaches this share of ``base``. An empty base (0) is never met:
        nothing is "more than half" or "at least 2/3" of nobody."""
        yes_f, base_f = exact(yes), exact(base)
        if base_f <= 0:
            return False
        if yes_f < 0 or yes_f > base_f:
            raise ValueError(f"yes ({yes}) must lie between 0 and the base ({base})")
        share = yes_f / base_f
        return share >= self.fraction if self.inclusive else share > self.fraction


class TieBreak(StrEnum):
    """How a ranked round chose what to eliminate when several options shared last place."""

    FIRST_PREFERENCES = "first_preferences"  # fewest first-preference votes (round 1)
    EARLIER_ROUND = "earlier_round"  # fewest votes in an earlier round, latest round first
    NO_VOTES_TOGETHER = "no_votes_together"  # all had zero votes: eliminated together (order cannot matter)
    SAME_WINNER_EITHER_WAY = "same_winner_either_way"  # every way of breaking it ends the same: the count goes on
    DRAW = "draw"  # a recorded public draw chose (voting.counting.draw), only when asked for


# --- ballots -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApproveRejectBallot:
    choice: Choice
    weight: Weight = 1


@dataclass(frozen=True)
class PluralityBallot:
    """A single-choice ballot: one option id."""

    option: str
    weight: Weight = 1


@dataclass(frozen=True)
class ApprovalBallot:
    """An approval ballot: any number of option ids (none = a blank ballot, still cast)."""

    options: frozenset[str]
    weight: Weight = 1


@dataclass(frozen=True)
class RankedBallot:
    """Option ids, most preferred first. Partial rankings allowed; no option twice."""

    ranking: tuple[str, ...]
    weight: Weight = 1


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Participation:
    """Who took part, against the eligible total, and whether the quorum holds.

    ``weight`` equals ``ballots`` when no weights are used. Quorum is inclusive:
    reached when ``weight >= quorum * eligible``."""

    ballots: int  # ballots cast, including abstentions and blank ballots
    weight: Fraction  # their total weight
    eligible: Fraction | None  # total weight of everyone eligible, when known
    rate: Fraction | None  # weight / eligible
    quorum: Fraction | None  # required fraction of eligible; None = no quorum
    quorum_required: Fraction | None  # quorum * eligible
    quorum_reached: bool  # True when no quorum is set


def participation_of(*, ballots: int, weight: Fraction, eligible: Weight | None, quorum: Weight | None) -> Participation:
    eligible_f = exact(eligible) if eligible is not None else None
    quorum_f = exact(quorum) if quorum is not None else None
    if eligible_f is not None and (eligible_f < 0 or weight > eligible_f):
        raise ValueError(f"ballots cast ({weight}) exceed the eligible total ({eligible_f})")
    if quorum_f is not None:
        if eligible_f is None:
            raise ValueError("a quorum needs the eligible total")
        if not 0 <= quorum_f <= 1:
            raise ValueError(f"a quorum is a fraction between 0 and 1, got {quorum}")
    required = quorum_f * eligible_f if quorum_f is not None and eligible_f is not None else None
    return Participation(
        ballots=ballots,
        weight=weight,
        eligible=eligible_f,
        rate=weight / eligible_f if eligible_f else None,
        quorum=quorum_f,
        quorum_required=required,
        quorum_reached=required is None or weight >= required,
    )


@dataclass(frozen=True)
class ApproveRejectResult:
    outcome: Outcome  # PASSED, FAILED, NO_QUORUM or TIE
    reason: Reason
    yes: Fraction  # weighted totals
    no: Fraction
    abstain: Fraction
    yes_ballots: int  # ballot counts (equal to the totals when unweighted)
    no_ballots: int
    abstain_ballots: int
    base: Base
    base_total: Fraction  # the number yes is measured against
    threshold: Threshold
    required_fraction: Fraction  # threshold.fraction, with threshold.inclusive saying > or >=
    yes_share: Fraction | None  # yes / base_total; None when the base is empty
    threshold_met: bool
    participation: Participation


@dataclass(frozen=True)
class OptionCount:
    option: str
    votes: Fraction  # weighted


@dataclass(frozen=True)
class ChoiceResult:
    """Single choice (plurality) or approval."""

    outcome: Outcome  # WINNER, TIE or NO_QUORUM
    reason: Reason
    counts: tuple[OptionCount, ...]  # every option, in the motion's order
    leaders: tuple[str, ...]  # options with the top count (several = tied), in the motion's order
    winner: str | None  # set only when outcome is WINNER
    participation: Participation

    def votes_for(self, option: str) -> Fraction:
        return next(c.votes for c in self.counts if c.option == option)


@dataclass(frozen=True)
class RankedRound:
    number: int  # 1-based
    counts: tuple[OptionCount, ...]  # continuing options only, in the motion's order
    continuing: Fraction  # sum of counts: ballots that still rank a continuing option
    exhausted: Fraction  # ballots with no continuing option left (cumulative); counts + exhausted = all
    exhausted_ballots: int  # the same, as a number of ballots
    eliminated: tuple[str, ...]  # eliminated after this round (empty in the deciding round)
    tied_for_last: tuple[str, ...]  # options sharing the fewest votes, when more than one
    tie_break: TieBreak | None  # how last place was decided among tied_for_last
    tie_break_round: int | None  # the round whose counts decided it
    # SAME_WINNER_EITHER_WAY / DRAW: the options that neither rule could separate (the shown
    # rounds follow removing ``eliminated``; with SAME_WINNER_EITHER_WAY any of them ends the same).
    undecided: tuple[str, ...] = ()

    def votes_for(self, option: str) -> Fraction:
        return next(c.votes for c in self.counts if c.option == option)


@dataclass(frozen=True)
class RankedResult:
    outcome: Outcome  # WINNER, TIE or NO_QUORUM
    reason: Reason
    winner: str | None
    tied: tuple[str, ...]  # on TIE: the options that could not be separated
    rounds: tuple[RankedRound, ...]  # empty under NO_QUORUM
    participation: Participation
    # ELIMINATION_TIE_UNRESOLVED: the options that would win under some way of breaking the
    # tie (a way that ends in a tie adds its tied options), in the motion's order.
    possible_winners: tuple[str, ...] = ()
