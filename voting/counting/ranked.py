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
   d. still tied otherwise: the count is continued, in thought, once for every way of removing
      one of them (and every way of breaking the ties met later). If every way ends the same
      (the same winner, or the same tie), the tie changes nothing: the first of them in the
      motion's order is removed (TieBreak.SAME_WINNER_EITHER_WAY, the others in ``undecided``)
      and the count goes on. Otherwise the result is TIE (reason ELIMINATION_TIE_UNRESOLVED)
      with the undecidable options in ``tied`` and the options that could win in
      ``possible_winners``; the moderator decides (a new vote, or a recorded public draw:
      ``draw_seed``). Never silently by lot, never by list order.

Every round is returned (counts, exhausted, eliminated, how a last-place tie was broken) so the
UI can show the count step by step.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

from .draw import draw_pick
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
    draw_seed: str | None = None,
) -> RankedResult:
    """Count a ranked vote by instant runoff.

    ``draw_seed`` (voting.counting.draw.draw_seed, recorded by the moderator after a tie):
    a tie that changes the winner is broken by a public draw from that seed instead of
    ending the count. Without it (at close) such a tie is the result.

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
    participation = participation_of(ballots=len(parsed), weight=sum((w for _, w in parsed), Fraction(0)), eligible=eligible, quorum=quorum)
    # Identical rankings counted together: a round costs one step per distinct ranking.
    grouped: dict[tuple[str, ...], tuple[Fraction, int]] = {}
    for ranking, weight in parsed:
        total, n = grouped.get(ranking, (Fraction(0), 0))
        grouped[ranking] = (total + weight, n + 1)
    # Counted in whole numbers (every weight times the common denominator): exact, and fast
    # enough to try every way of breaking a tie. Shown as the Fractions they stand for.
    scale = math.lcm(1, *(total.denominator for total, _n in grouped.values()))
    groups: _Groups = [(ranking, int(total * scale), n) for ranking, (total, n) in grouped.items()]
    if not participation.quorum_reached:
        return RankedResult(
            outcome=Outcome.NO_QUORUM,
            reason=Reason.QUORUM_NOT_REACHED,
            winner=None,
            tied=(),
            rounds=(),
            participation=participation,
        )

    picks = 0

    def pick(among: Sequence[str]) -> str:
        """The next public draw (numbered 1, 2, … within this count)."""
        nonlocal picks
        picks += 1
        return draw_pick(draw_seed or "", among, step=picks)

    search = _Search(groups, scale)  # one budget and one memory for the whole count
    continuing = list(ordered)
    history: list[dict[str, int]] = []
    rounds: list[RankedRound] = []
    while True:
        step = _round(groups, scale, continuing, history)
        this_round = step.round
        if step.end is not None:
            reason, winner, tied = step.end
            drawable = winner is None and reason == Reason.ALL_REMAINING_TIED and draw_seed is not None
            if not drawable:
                rounds.append(this_round)
                return RankedResult(
                    outcome=Outcome.WINNER if winner is not None else Outcome.TIE,
                    reason=reason,
                    winner=winner,
                    tied=tuple(tied),
                    rounds=tuple(rounds),
                    participation=participation,
                )
            loser = pick(continuing)
            this_round = replace(
                this_round,
                eliminated=(loser,),
                tied_for_last=tuple(continuing),
                tie_break=TieBreak.DRAW,
                undecided=tuple(continuing),
            )
        elif step.undecided:
            undecided = step.undecided
            endings: set[_Ending] = set()
            try:
                for option in undecided:
                    endings |= search.endings([o for o in continuing if o != option], list(history))
            except _TooManyWays:
                # Too many ways to try: report the tie (every continuing option might win).
                endings = {("tie", frozenset(continuing)), ("tie", frozenset())}
            if len(endings) == 1:
                how, loser = TieBreak.SAME_WINNER_EITHER_WAY, undecided[0]
            elif draw_seed is not None:
                how, loser = TieBreak.DRAW, pick(undecided)
            else:
                rounds.append(this_round)
                possible = {o for kind, value in endings for o in ([value] if kind == "win" else value)}
                return RankedResult(
                    outcome=Outcome.TIE,
                    reason=Reason.ELIMINATION_TIE_UNRESOLVED,
                    winner=None,
                    tied=tuple(undecided),
                    rounds=tuple(rounds),
                    participation=participation,
                    possible_winners=tuple(o for o in ordered if o in possible),
                )
            this_round = replace(this_round, eliminated=(loser,), tie_break=how, undecided=tuple(undecided))
        rounds.append(this_round)
        out = set(this_round.eliminated)
        continuing = [o for o in continuing if o not in out]


EXPLORE_ROUNDS = 2_000
"""How many rounds the search over every way of breaking last-place ties may count, in all, before
it gives up and reports the tie (to the moderator, every continuing option listed as a possible
winner) rather than guess: about a second on a slow machine. Only ties of many options with many
ways to end reach it; a vote of 20 options and 2,000 ballots with no such tie counts in 0.1 s."""

_Groups = list[tuple[tuple[str, ...], int, int]]  # (ranking, total weight × scale, number of ballots)

_Ending = tuple[str, "str | frozenset[str]"]  # ("win", option) or ("tie", the tied options)


class _TooManyWays(Exception):
    pass


@dataclass(frozen=True)
class _Step:
    round: RankedRound
    end: tuple[Reason, str | None, Sequence[str]] | None = None  # the count ends here
    undecided: tuple[str, ...] = ()  # last place that no rule separates (the round eliminates nothing yet)


def _round(groups: _Groups, scale: int, continuing: list[str], history: list[dict[str, int]]) -> _Step:
    """Count one round (appending its counts to ``history``) and say what it decides."""
    counts, exhausted, exhausted_ballots = _count_round(groups, continuing)
    history.append(counts)
    total = sum(counts.values())
    this_round = RankedRound(
        number=len(history),
        counts=tuple(OptionCount(option=o, votes=Fraction(counts[o], scale)) for o in continuing),
        continuing=Fraction(total, scale),
        exhausted=Fraction(exhausted, scale),
        exhausted_ballots=exhausted_ballots,
        eliminated=(),
        tied_for_last=(),
        tie_break=None,
        tie_break_round=None,
    )
    majority = [o for o in continuing if 2 * counts[o] > total]
    if majority:
        return _Step(this_round, end=(Reason.MAJORITY_OF_CONTINUING, majority[0], ()))
    if len(set(counts.values())) == 1:
        return _Step(this_round, end=(Reason.NO_VOTES if total == 0 else Reason.ALL_REMAINING_TIED, None, continuing))
    fewest = min(counts.values())
    last = [o for o in continuing if counts[o] == fewest]
    if len(last) == 1:
        return _Step(replace(this_round, eliminated=(last[0],)))
    loser, tie_break, tie_break_round, undecided = _break_last_place_tie(last, history)
    this_round = replace(this_round, tied_for_last=tuple(last))
    if loser is not None:
        return _Step(replace(this_round, eliminated=(loser,), tie_break=tie_break, tie_break_round=tie_break_round))
    if fewest == 0:
        return _Step(replace(this_round, eliminated=tuple(last), tie_break=TieBreak.NO_VOTES_TOGETHER))
    return _Step(this_round, undecided=tuple(undecided))


class _Search:
    """Every way the count can end from a state, over every way of breaking the ties to come.

    A state is the continuing options and their counts in every earlier round (all that the
    count and its tie-breaks look at), so states reached by removing the same options in
    another order are counted once."""

    def __init__(self, groups: _Groups, scale: int) -> None:
        self.groups = groups
        self.scale = scale
        self.rounds_left = EXPLORE_ROUNDS
        self.memo: dict[tuple[object, ...], set[_Ending]] = {}

    def endings(self, continuing: list[str], history: list[dict[str, int]]) -> set[_Ending]:
        key = (tuple(continuing), tuple(tuple(h[o] for o in continuing) for h in history))
        if key not in self.memo:
            self.memo[key] = self._endings(continuing, history)
        return self.memo[key]

    def _endings(self, continuing: list[str], history: list[dict[str, int]]) -> set[_Ending]:
        while True:
            self.rounds_left -= 1
            if self.rounds_left < 0:
                raise _TooManyWays
            step = _round(self.groups, self.scale, continuing, history)
            if step.end is not None:
                _reason, winner, tied = step.end
                return {("win", winner)} if winner is not None else {("tie", frozenset(tied))}
            if step.undecided:
                found: set[_Ending] = set()
                for option in step.undecided:
                    found |= self.endings([o for o in continuing if o != option], list(history))
                return found
            out = set(step.round.eliminated)
            continuing = [o for o in continuing if o not in out]


def _count_round(groups: _Groups, continuing: list[str]) -> tuple[dict[str, int], int, int]:
    still_in = set(continuing)
    counts = dict.fromkeys(continuing, 0)
    exhausted = 0
    exhausted_ballots = 0
    for ranking, weight, n in groups:
        top = next((o for o in ranking if o in still_in), None)
        if top is None:
            exhausted += weight
            exhausted_ballots += n
        else:
            counts[top] += weight
    return counts, exhausted, exhausted_ballots


def _break_last_place_tie(last: list[str], history: list[dict[str, int]]) -> tuple[str | None, TieBreak | None, int | None, list[str]]:
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
