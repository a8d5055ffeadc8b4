"""Approve/reject (赞成/反对/弃权) with a base, a threshold and an optional quorum.

Rules, in the order they are applied:

1. **Quorum** (optional): the total weight of ballots cast — abstentions included — must be at
   least ``quorum × eligible``. Otherwise the outcome is NO_QUORUM, whatever the votes say.
2. **Threshold**: ``yes`` must be more than 1/2, at least 2/3 or at least 3/4 of the base:
   YES_NO = yes + no; YES_NO_ABSTAIN = yes + no + abstain; ALL_ELIGIBLE = the eligible total
   (so not voting counts like no). Met → PASSED.
3. **Tie**: with the simple majority (MORE_THAN_HALF), a motion whose yes equals no and makes
   up exactly half of the base is a TIE, not a silent failure. With base YES_NO that is simply
   ``yes == no > 0``; with the other bases it also needs nobody else in the base (no
   abstentions, resp. every eligible voter voted). The moderator decides what a tie means.
   Under 2/3 and 3/4 thresholds, yes == no is an ordinary FAILED (the threshold is far away).
4. Otherwise FAILED. An empty base (e.g. zero ballots and no quorum set) is FAILED with
   ``base_total == 0``, ``yes_share is None`` and reason EMPTY_BASE: nothing is a majority of
   nobody. With a quorum set, zero ballots is NO_QUORUM (unless the quorum is 0).

Weights default to 1 (one ballot per person, or per household in 一户一票 mode — the caller
decides who holds a ballot); a ballot may carry any positive int/Fraction/Decimal weight.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from .types import (
    ApproveRejectBallot,
    ApproveRejectResult,
    Base,
    Choice,
    Outcome,
    Reason,
    Threshold,
    Weight,
    exact,
    participation_of,
    positive_weight,
)


def approve_reject_tally(
    *,
    ballots: Iterable[ApproveRejectBallot],
    base: Base,
    threshold: Threshold,
    eligible: Weight | None = None,
    quorum: Weight | None = None,
) -> ApproveRejectResult:
    """Count an approve/reject vote.

    ``eligible`` is the total weight of everyone who may vote (the number of eligible voters
    when unweighted); it is required for base ALL_ELIGIBLE and for a quorum. ``quorum`` is a
    fraction of ``eligible`` (e.g. ``Fraction(1, 2)``), reached when participation >= it.
    Raises ValueError on inconsistent input (more cast than eligible, missing eligible total).
    """
    totals = {choice: Fraction(0) for choice in Choice}
    numbers = dict.fromkeys(Choice, 0)
    for ballot in ballots:
        choice = Choice(ballot.choice)
        totals[choice] += positive_weight(ballot.weight)
        numbers[choice] += 1
    yes, no, abstain = totals[Choice.YES], totals[Choice.NO], totals[Choice.ABSTAIN]

    participation = participation_of(ballots=sum(numbers.values()), weight=yes + no + abstain, eligible=eligible, quorum=quorum)
    if base is Base.ALL_ELIGIBLE:
        if eligible is None:
            raise ValueError("base ALL_ELIGIBLE needs the eligible total")
        base_total = exact(eligible)
    elif base is Base.YES_NO_ABSTAIN:
        base_total = yes + no + abstain
    else:
        base_total = yes + no

    threshold_met = threshold.met(yes, base_total)
    balanced = threshold is Threshold.MORE_THAN_HALF and base_total > 0 and yes == no and 2 * yes == base_total
    if not participation.quorum_reached:
        outcome, reason = Outcome.NO_QUORUM, Reason.QUORUM_NOT_REACHED
    elif threshold_met:
        outcome, reason = Outcome.PASSED, Reason.THRESHOLD_MET
    elif balanced:
        outcome, reason = Outcome.TIE, Reason.YES_EQUALS_NO
    elif base_total == 0:
        outcome, reason = Outcome.FAILED, Reason.EMPTY_BASE
    else:
        outcome, reason = Outcome.FAILED, Reason.THRESHOLD_NOT_MET

    return ApproveRejectResult(
        outcome=outcome,
        reason=reason,
        yes=yes,
        no=no,
        abstain=abstain,
        yes_ballots=numbers[Choice.YES],
        no_ballots=numbers[Choice.NO],
        abstain_ballots=numbers[Choice.ABSTAIN],
        base=base,
        base_total=base_total,
        threshold=threshold,
        required_fraction=threshold.fraction,
        yes_share=yes / base_total if base_total else None,
        threshold_met=threshold_met,
        participation=participation,
    )
