"""Ranked choice by instant runoff: published examples, every tie rule, and properties."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voting.counting import (
    Outcome,
    PluralityBallot,
    RankedBallot,
    RankedResult,
    Reason,
    TieBreak,
    exact,
    plurality_tally,
    ranked_tally,
)


def ranked(*groups: tuple[int, str]) -> list[RankedBallot]:
    """(count, "ABC") → count ballots ranking A > B > C."""
    return [RankedBallot(tuple(order)) for count, order in groups for _ in range(count)]


def table(result: RankedResult) -> list[dict[str, int]]:
    return [{c.option: int(c.votes) for c in r.counts} for r in result.rounds]


# Wikipedia, "Instant-runoff voting": Tennessee picks its capital. M=Memphis, N=Nashville,
# C=Chattanooga, K=Knoxville; each city's voters rank by distance.
TENNESSEE = ranked((42, "MNCK"), (26, "NCKM"), (15, "CKNM"), (17, "KCNM"))


def test_tennessee_capital_knoxville_wins() -> None:
    result = ranked_tally(options="MNCK", ballots=TENNESSEE)
    assert (result.outcome, result.reason, result.winner) == (Outcome.WINNER, Reason.MAJORITY_OF_CONTINUING, "K")
    assert table(result) == [
        {"M": 42, "N": 26, "C": 15, "K": 17},
        {"M": 42, "N": 26, "K": 32},
        {"M": 42, "K": 58},
    ]
    assert [r.eliminated for r in result.rounds] == [("C",), ("N",), ()]
    assert all(r.exhausted == 0 and r.continuing == 100 for r in result.rounds)


def test_the_plurality_leader_can_lose_under_instant_runoff() -> None:
    first_choices = [PluralityBallot(b.ranking[0]) for b in TENNESSEE]
    assert plurality_tally(options="MNCK", ballots=first_choices).winner == "M"
    assert ranked_tally(options="MNCK", ballots=TENNESSEE).winner == "K"


def test_a_first_round_majority_wins_at_once() -> None:
    result = ranked_tally(options="ABC", ballots=ranked((3, "A"), (1, "BA"), (1, "C")))
    assert (result.winner, len(result.rounds)) == ("A", 1)


def test_exactly_half_is_not_a_majority() -> None:
    # A has 3 of 6 in round 1: not more than half, so C (fewest) is eliminated; then 3-3.
    result = ranked_tally(options="ABC", ballots=ranked((3, "A"), (2, "B"), (1, "CB")))
    assert result.rounds[0].eliminated == ("C",)
    assert (result.outcome, result.reason, result.tied) == (Outcome.TIE, Reason.ALL_REMAINING_TIED, ("A", "B"))


def test_exhausted_ballots_leave_the_majority_base() -> None:
    # Chattanooga-only ballots stop counting once C is out: A wins with 4 of 7 continuing (not of 9).
    result = ranked_tally(options="ABC", ballots=ranked((4, "A"), (3, "B"), (2, "C")))
    last = result.rounds[-1]
    assert result.winner == "A"
    assert (last.continuing, last.exhausted, last.exhausted_ballots) == (7, 2, 2)
    assert result.rounds[0].exhausted == 0


def test_a_blank_ranking_is_cast_but_exhausted_from_the_start() -> None:
    result = ranked_tally(options="AB", ballots=[*ranked((2, "A"), (1, "B")), RankedBallot(())])
    assert result.participation.ballots == 4
    assert (result.rounds[0].exhausted, result.winner) == (1, "A")


def test_last_place_tie_broken_by_first_preferences() -> None:
    ballots = ranked((10, "A"), (7, "B"), (5, "CB"), (2, "DCB"))
    result = ranked_tally(options="ABCD", ballots=ballots)
    assert table(result)[1] == {"A": 10, "B": 7, "C": 7}
    second = result.rounds[1]
    assert second.tied_for_last == ("B", "C")
    assert (second.eliminated, second.tie_break, second.tie_break_round) == (("C",), TieBreak.FIRST_PREFERENCES, 1)
    assert result.winner == "B"


def test_last_place_tie_broken_by_the_latest_earlier_round_first() -> None:
    # B and C tie in round 4 and in first preferences. Round 3 had B behind (B goes);
    # round 2 had C behind, so counting forwards would have removed C instead.
    ballots = ranked((12, "A"), (5, "BC"), (5, "C"), (2, "DB"), (2, "D"), (3, "EC"), (1, "FB"))
    result = ranked_tally(options="ABCDEF", ballots=ballots)
    assert [r.eliminated for r in result.rounds[:3]] == [("F",), ("E",), ("D",)]
    assert table(result)[1]["B"] > table(result)[1]["C"]
    assert table(result)[2]["B"] < table(result)[2]["C"]
    fourth = result.rounds[3]
    assert fourth.tied_for_last == ("B", "C")
    assert (fourth.eliminated, fourth.tie_break, fourth.tie_break_round) == (("B",), TieBreak.EARLIER_ROUND, 3)
    assert (result.winner, result.rounds[-1].exhausted) == ("C", 5)


def test_an_undecidable_last_place_tie_is_surfaced_not_decided() -> None:
    result = ranked_tally(options="ABC", ballots=ranked((4, "A"), (3, "BA"), (3, "CA")))
    assert (result.outcome, result.reason, result.winner) == (Outcome.TIE, Reason.ELIMINATION_TIE_UNRESOLVED, None)
    assert result.tied == ("B", "C")
    assert len(result.rounds) == 1
    assert (result.rounds[0].tied_for_last, result.rounds[0].eliminated) == (("B", "C"), ())


def test_the_undecidable_tie_lists_only_those_still_tied() -> None:
    # Round 2: B, C and D share last place with 4; first preferences B 4, C 3, D 3 spare B.
    ballots = ranked((10, "A"), (4, "B"), (3, "C"), (3, "D"), (1, "XC"), (1, "XD"))
    result = ranked_tally(options="ABCDX", ballots=ballots)
    assert table(result)[1] == {"A": 10, "B": 4, "C": 4, "D": 4}
    assert result.rounds[1].tied_for_last == ("B", "C", "D")
    assert (result.outcome, result.reason, result.tied) == (Outcome.TIE, Reason.ELIMINATION_TIE_UNRESOLVED, ("C", "D"))


def test_options_with_no_votes_are_eliminated_together() -> None:
    result = ranked_tally(options="ABCDE", ballots=ranked((4, "A"), (3, "B"), (2, "CB")))
    first = result.rounds[0]
    assert (first.eliminated, first.tied_for_last, first.tie_break) == (("D", "E"), ("D", "E"), TieBreak.NO_VOTES_TOGETHER)
    assert [r.eliminated for r in result.rounds] == [("D", "E"), ("C",), ()]
    assert result.winner == "B"


@pytest.mark.parametrize(
    ("ballots", "tied"),
    [
        (ranked((2, "A"), (2, "B")), ("A", "B")),
        (ranked((3, "AB"), (3, "BC"), (3, "CA")), ("A", "B", "C")),
    ],
)
def test_all_remaining_options_tied(ballots: list[RankedBallot], tied: tuple[str, ...]) -> None:
    result = ranked_tally(options="ABC"[: len(tied)], ballots=ballots)
    assert (result.outcome, result.reason, result.tied) == (Outcome.TIE, Reason.ALL_REMAINING_TIED, tied)


def test_no_ballots_is_a_tie_with_no_votes() -> None:
    result = ranked_tally(options="AB", ballots=[])
    assert (result.outcome, result.reason, result.tied, len(result.rounds)) == (Outcome.TIE, Reason.NO_VOTES, ("A", "B"), 1)


def test_weights_count_in_every_round() -> None:
    ballots = [RankedBallot(("A",), 3), RankedBallot(("B",), Fraction(5, 2)), RankedBallot(("C", "B"), 1)]
    result = ranked_tally(options="ABC", ballots=ballots)
    assert result.rounds[-1].votes_for("B") == Fraction(7, 2)
    assert result.winner == "B"


def test_quorum_not_reached_has_no_rounds() -> None:
    result = ranked_tally(options="AB", ballots=ranked((2, "A")), eligible=5, quorum=Fraction(1, 2))
    assert (result.outcome, result.rounds, result.participation.quorum_required) == (Outcome.NO_QUORUM, (), Fraction(5, 2))


@pytest.mark.parametrize("ranking", [("A", "A"), ("A", "Z")])
def test_malformed_rankings_are_refused(ranking: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        ranked_tally(options="AB", ballots=[RankedBallot(ranking)])


# --- properties ----------------------------------------------------------------------------

OPTIONS = "ABCDE"
rankings = st.lists(st.sampled_from(OPTIONS), unique=True, max_size=len(OPTIONS)).map(tuple)
weights = st.sampled_from([1, 1, 1, 2, Fraction(1, 2), Fraction(3, 2)])
ranked_ballots = st.lists(st.builds(RankedBallot, rankings, weights), max_size=40)


@given(ranked_ballots)
def test_every_round_adds_up(ballots: list[RankedBallot]) -> None:
    result = ranked_tally(options=OPTIONS, ballots=ballots)
    everyone = sum((exact(b.weight) for b in ballots), Fraction(0))
    previous_exhausted = Fraction(0)
    for r in result.rounds:
        assert sum(c.votes for c in r.counts) == r.continuing
        assert r.continuing + r.exhausted == everyone
        assert r.exhausted >= previous_exhausted
        previous_exhausted = r.exhausted
    if result.winner is not None:
        assert 2 * result.rounds[-1].votes_for(result.winner) > result.rounds[-1].continuing


@given(ranked_ballots)
def test_eliminated_options_never_return_and_counts_never_fall(ballots: list[RankedBallot]) -> None:
    result = ranked_tally(options=OPTIONS, ballots=ballots)
    for earlier, later in zip(result.rounds, result.rounds[1:], strict=False):
        remaining = {c.option for c in later.counts}
        assert remaining == {c.option for c in earlier.counts} - set(earlier.eliminated)
        assert all(later.votes_for(o) >= earlier.votes_for(o) for o in remaining)
    assert len(result.rounds) <= len(OPTIONS)
    assert result.rounds[-1].eliminated == ()


@given(ranked_ballots, st.randoms(use_true_random=False))
def test_ranked_is_independent_of_ballot_order(ballots: list[RankedBallot], rnd: object) -> None:
    shuffled = list(ballots)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert ranked_tally(options=OPTIONS, ballots=shuffled) == ranked_tally(options=OPTIONS, ballots=ballots)


@given(ranked_ballots, st.data())
def test_ranking_an_option_lower_never_raises_its_first_round_count(ballots: list[RankedBallot], data: st.DataObject) -> None:
    candidates = [i for i, b in enumerate(ballots) if len(b.ranking) >= 1]
    if not candidates:
        return
    index = data.draw(st.sampled_from(candidates))
    ranking = list(ballots[index].ranking)
    position = data.draw(st.integers(0, len(ranking) - 1))
    option = ranking.pop(position)
    lower = data.draw(st.integers(position, len(ranking)))
    ranking.insert(lower, option)
    moved = [*ballots[:index], RankedBallot(tuple(ranking), ballots[index].weight), *ballots[index + 1 :]]

    def first_round(cast: list[RankedBallot]) -> Fraction:
        return ranked_tally(options=OPTIONS, ballots=cast).rounds[0].votes_for(option)

    def first_choice(cast: list[RankedBallot]) -> Fraction:
        picks = [PluralityBallot(b.ranking[0], b.weight) for b in cast if b.ranking]
        return plurality_tally(options=OPTIONS, ballots=picks).votes_for(option)

    assert first_round(moved) <= first_round(ballots)
    assert first_choice(moved) <= first_choice(ballots)
