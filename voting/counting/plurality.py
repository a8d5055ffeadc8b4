"""Single choice (单选): each ballot names one option; the option with the most votes wins.

No majority is required: the top count wins. When several options share the top count the
outcome is TIE and ``leaders`` lists them (in the motion's order) for the moderator — a tie is
never broken by order or at random. With no votes at all, every option shares the top count
(zero), so the outcome is TIE with reason NO_VOTES. An optional quorum works as for
approve/reject (participation >= quorum × eligible, else NO_QUORUM).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction

from .types import (
    ChoiceResult,
    OptionCount,
    Outcome,
    Participation,
    PluralityBallot,
    Reason,
    Weight,
    participation_of,
    positive_weight,
)


def checked_options(options: Sequence[str]) -> tuple[str, ...]:
    """The motion's option ids, in order; at least one, no duplicates."""
    ordered = tuple(options)
    if not ordered:
        raise ValueError("a choice vote needs at least one option")
    if len(set(ordered)) != len(ordered):
        raise ValueError(f"duplicate option ids in {ordered}")
    return ordered


def choice_result(*, options: tuple[str, ...], votes: Mapping[str, Fraction], participation: Participation) -> ChoiceResult:
    """Winner or tie from per-option totals (shared by single choice and approval)."""
    counts = tuple(OptionCount(option=o, votes=votes[o]) for o in options)
    top = max(c.votes for c in counts)
    leaders = tuple(c.option for c in counts if c.votes == top)
    if not participation.quorum_reached:
        outcome, reason, winner = Outcome.NO_QUORUM, Reason.QUORUM_NOT_REACHED, None
    elif top == 0:
        outcome, reason, winner = Outcome.TIE, Reason.NO_VOTES, None
    elif len(leaders) > 1:
        outcome, reason, winner = Outcome.TIE, Reason.TIED_FOR_MOST, None
    else:
        outcome, reason, winner = Outcome.WINNER, Reason.MOST_VOTES, leaders[0]
    return ChoiceResult(
        outcome=outcome,
        reason=reason,
        counts=counts,
        leaders=leaders,
        winner=winner,
        participation=participation,
    )


def plurality_tally(
    *,
    options: Sequence[str],
    ballots: Iterable[PluralityBallot],
    eligible: Weight | None = None,
    quorum: Weight | None = None,
) -> ChoiceResult:
    """Count a single-choice vote. Raises ValueError for a ballot naming an unknown option."""
    ordered = checked_options(options)
    votes = {o: Fraction(0) for o in ordered}
    number = 0
    for ballot in ballots:
        if ballot.option not in votes:
            raise ValueError(f"ballot names unknown option {ballot.option!r}")
        votes[ballot.option] += positive_weight(ballot.weight)
        number += 1
    participation = participation_of(ballots=number, weight=sum(votes.values(), Fraction(0)), eligible=eligible, quorum=quorum)
    return choice_result(options=ordered, votes=votes, participation=participation)
