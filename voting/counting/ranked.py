"""Ranked choice (排序投票) counted by instant runoff.

A ballot ranks option ids, most preferred first; it may rank only some options. Each round,
every ballot counts (with its weight) for its highest-ranked option still in the count; a
ballot ranking no continuing option is *exhausted* and stays exhausted. In every round
``sum(counts) + exhausted == all ballots``.

Each round, in this order:

1. An option with a strict majority (> 1/2) of the continuing (non-exhausted) ballots wins.
2. If every continuing option has the same count, the result is TIE (all of them listed).
   With no usable ballot at all that is TIE with reason NO_VOTES.
3. Otherwise the option with the fewest votes is eliminated. Several tied for last place:
   a. the one with the fewest first-preference votes (round 1) is eliminated;
   b. still tied: the one with fewer votes in the previous round, then the round before, and so
      on back to round 2;
   c. still tied and all of them have zero votes: they are eliminated together. This cannot
      change anything: an option's count never falls while it stays in, so a zero now was a zero
      in every earlier round, and eliminating it moves no ballot, so the order is irrelevant;
   d. still tied otherwise: the result is TIE (reason ELIMINATION_TIE_UNRESOLVED) with the
      undecidable options in ``tied``; the moderator decides. Never by lot, never by list order.

Every round is returned (counts, exhausted, eliminated, how a last-place tie was broken) so the
UI can show the count step by step.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from fractions import Fraction

from .plurality import checked_options
from .types import (
    OptionCount,
    Outcome,
    RankedBallot,
    RankedResult,
    RankedRound,
    Reason,
    TieBreak,
    Weight,
    participation_of,
    positive_weight,
)


def ranked_tally(
    *,
    options: Sequence[str],
    ballots: Iterable[RankedBallot],
    eligible: Weight | None = None,
    quorum: Weight | None = None,
) -> RankedResult:
    """Count a ranked vote by instant runoff.

    Raises ValueError for a ballot that ranks an unknown option or the same option twice.
    An empty ranking is a cast ballot (participation) that is exhausted from round 1.
    """
    ordered = checked_options(options)
    known = set(ordered)
    parsed: list[tuple[tuple[str, ...], Fraction]] = []
    for ballot in ballots:
        ranking = tuple(ballot.ranking)
        if len(set(ranking)) != len(ranking):
            raise ValueError(f"ballot ranks an option twice: {ranking}")
        unknown = set(ranking) - known
        if unknown:
            raise ValueError(f"ballot ranks unknown options {sorted(unknown)}")
        parsed.append((ranking, positive_weight(ballot.weight)))
    participation = participation_of(
        ballots=len(parsed), weight=sum((w for _, w in parsed), Fraction(0)), eligible=eligible, quorum=quorum
    )
    if not participation.quorum_reached:
        return RankedResult(
            outcome=Outcome.NO_QUORUM,
            reason=Reason.QUORUM_NOT_REACHED,
            winner=None,
            tied=(),
            rounds=(),
            participation=participation,
        )

    continuing = list(ordered)
    history: list[dict[str, Fraction]] = []
    rounds: list[RankedRound] = []
    while True:
        counts, exhausted, exhausted_ballots = _count_round(parsed, continuing)
        history.append(counts)
        total = sum(counts.values(), Fraction(0))
        shown = tuple(OptionCount(option=o, votes=counts[o]) for o in continuing)
        this_round = RankedRound(
            number=len(history),
            counts=shown,
            continuing=total,
            exhausted=exhausted,
            exhausted_ballots=exhausted_ballots,
            eliminated=(),
            tied_for_last=(),
            tie_break=None,
            tie_break_round=None,
        )
        outcome: tuple[Reason, str | None, Sequence[str]] | None = None

        majority = [o for o in continuing if 2 * counts[o] > total]
        if majority:
            outcome = (Reason.MAJORITY_OF_CONTINUING, majority[0], ())
        elif len(set(counts.values())) == 1:
            outcome = (Reason.NO_VOTES if total == 0 else Reason.ALL_REMAINING_TIED, None, continuing)
        else:
            fewest = min(counts.values())
            last = [o for o in continuing if counts[o] == fewest]
            if len(last) == 1:
                this_round = replace(this_round, eliminated=(last[0],))
            else:
                loser, tie_break, tie_break_round, undecided = _break_last_place_tie(last, history)
                this_round = replace(this_round, tied_for_last=tuple(last))
                if loser is not None:
                    this_round = replace(
                        this_round, eliminated=(loser,), tie_break=tie_break, tie_break_round=tie_break_round
                    )
                elif fewest == 0:
                    this_round = replace(this_round, eliminated=tuple(last), tie_break=TieBreak.NO_VOTES_TOGETHER)
                else:
                    outcome = (Reason.ELIMINATION_TIE_UNRESOLVED, None, undecided)
        rounds.append(this_round)

        if outcome is not None:
            reason, winner, tied = outcome
            return RankedResult(
                outcome=Outcome.WINNER if winner is not None else Outcome.TIE,
                reason=reason,
                winner=winner,
                tied=tuple(tied),
                rounds=tuple(rounds),
                participation=participation,
            )
        out = set(this_round.eliminated)
        continuing = [o for o in continuing if o not in out]


def _count_round(
    parsed: list[tuple[tuple[str, ...], Fraction]], continuing: list[str]
) -> tuple[dict[str, Fraction], Fraction, int]:
    still_in = set(continuing)
    counts = {o: Fraction(0) for o in continuing}
    exhausted = Fraction(0)
    exhausted_ballots = 0
    for ranking, weight in parsed:
        top = next((o for o in ranking if o in still_in), None)
        if top is None:
            exhausted += weight
            exhausted_ballots += 1
        else:
            counts[top] += weight
    return counts, exhausted, exhausted_ballots


def _break_last_place_tie(
    last: list[str], history: list[dict[str, Fraction]]
) -> tuple[str | None, TieBreak | None, int | None, list[str]]:
    """(loser, how, round number, still-tied options). ``loser`` is None when undecidable."""
    # Round 1 first (first preferences), then the earlier rounds from the latest backwards.
    # The current round is where they tie, so it is skipped; round 1 is not looked at twice.
    current = len(history)
    order = [1, *range(current - 1, 1, -1)] if current > 1 else []
    candidates = list(last)
    for number in order:
        counts = history[number - 1]
        fewest = min(counts[o] for o in candidates)
        candidates = [o for o in candidates if counts[o] == fewest]
        if len(candidates) == 1:
            how = TieBreak.FIRST_PREFERENCES if number == 1 else TieBreak.EARLIER_ROUND
            return candidates[0], how, number, candidates
    return None, None, None, candidates
