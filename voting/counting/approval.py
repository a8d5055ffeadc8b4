"""Approval vote (多选): each ballot approves any number of options, each approval counts one
(times the ballot's weight); the option approved most wins.

Ties at the top are TIE with the tied options in ``leaders``; no approvals at all is TIE with
reason NO_VOTES. A blank ballot (approving nothing) is cast — it counts for participation and
quorum — but adds to no option. Optional quorum as for approve/reject.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction

from .plurality import checked_options, choice_result
from .types import (
    ApprovalBallot,
    ChoiceResult,
    Weight,
    participation_of,
    positive_weight,
)


def approval_tally(
    *,
    options: Sequence[str],
    ballots: Iterable[ApprovalBallot],
    eligible: Weight | None = None,
    quorum: Weight | None = None,
) -> ChoiceResult:
    """Count an approval vote. Raises ValueError for a ballot naming an unknown option."""
    ordered = checked_options(options)
    votes = {o: Fraction(0) for o in ordered}
    number = 0
    cast = Fraction(0)
    for ballot in ballots:
        weight = positive_weight(ballot.weight)
        unknown = set(ballot.options) - votes.keys()
        if unknown:
            raise ValueError(f"ballot names unknown options {sorted(unknown)}")
        for option in set(ballot.options):
            votes[option] += weight
        number += 1
        cast += weight
    participation = participation_of(ballots=number, weight=cast, eligible=eligible, quorum=quorum)
    return choice_result(options=ordered, votes=votes, participation=participation)
