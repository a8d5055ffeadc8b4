"""Ranked choice by instant runoff: published examples, every tie rule, and properties."""

from __future__ import annotations

import hashlib
from fractions import Fraction

import pytest
from hypothesis import given, settings
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
from voting.counting.draw import draw_pick, draw_seed


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


def test_a_last_place_tie_that_changes_nothing_does_not_stop_the_count() -> None:
    # Issue 14: 3 A, 2 B, 2 C. Removing B or removing C, A wins either way: A is the winner.
    result = ranked_tally(options="ABC", ballots=ranked((3, "A"), (2, "B"), (2, "C")))
    assert (result.outcome, result.reason, result.winner) == (Outcome.WINNER, Reason.MAJORITY_OF_CONTINUING, "A")
    first = result.rounds[0]
    assert (first.tied_for_last, first.undecided, first.tie_break) == (("B", "C"), ("B", "C"), TieBreak.SAME_WINNER_EITHER_WAY)
    assert first.eliminated == ("B",)
    assert table(result)[1] == {"A": 3, "C": 2}


def test_a_tie_whose_ballots_all_go_to_the_leader_changes_nothing() -> None:
    result = ranked_tally(options="ABC", ballots=ranked((4, "A"), (3, "BA"), (3, "CA")))
    assert (result.outcome, result.winner, result.rounds[0].tie_break) == (Outcome.WINNER, "A", TieBreak.SAME_WINNER_EITHER_WAY)


def test_a_last_place_tie_that_decides_the_winner_is_surfaced_not_decided() -> None:
    # Removing B hands C the majority; removing C hands it to B: a real tie.
    result = ranked_tally(options="ABC", ballots=ranked((4, "A"), (3, "BC"), (3, "CB")))
    assert (result.outcome, result.reason, result.winner) == (Outcome.TIE, Reason.ELIMINATION_TIE_UNRESOLVED, None)
    assert (result.tied, result.possible_winners) == (("B", "C"), ("B", "C"))
    assert len(result.rounds) == 1
    assert (result.rounds[0].tied_for_last, result.rounds[0].eliminated) == (("B", "C"), ())


def test_the_possible_winners_of_a_real_tie_can_include_an_option_not_tied() -> None:
    # Removing B hands A the majority; removing C hands it to B.
    result = ranked_tally(options="ABC", ballots=ranked((5, "A"), (3, "BA"), (3, "CB")))
    assert (result.outcome, result.reason) == (Outcome.TIE, Reason.ELIMINATION_TIE_UNRESOLVED)
    assert (result.tied, result.possible_winners) == (("B", "C"), ("A", "B"))


def test_the_undecidable_tie_lists_only_those_still_tied() -> None:
    # Round 2: B, C and D share last place with 4; first preferences B 4, C 3, D 3 spare B.
    # Removing C elects D in the end, removing D elects B: a real tie.
    ballots = ranked((5, "A"), (4, "BC"), (3, "CD"), (3, "DB"), (1, "XC"), (1, "XD"))
    result = ranked_tally(options="ABCDX", ballots=ballots)
    assert table(result)[1] == {"A": 5, "B": 4, "C": 4, "D": 4}
    assert result.rounds[1].tied_for_last == ("B", "C", "D")
    assert (result.outcome, result.reason, result.tied) == (Outcome.TIE, Reason.ELIMINATION_TIE_UNRESOLVED, ("C", "D"))


def test_a_recorded_draw_breaks_a_tie_that_decides_the_winner() -> None:
    ballots = ranked((4, "A"), (3, "BC"), (3, "CB"))
    seed = draw_seed(motion_id=7, tied=("B", "C"), public_value="17 42 3")
    result = ranked_tally(options="ABC", ballots=ballots, draw_seed=seed)
    first = result.rounds[0]
    assert (first.tie_break, first.undecided) == (TieBreak.DRAW, ("B", "C"))
    loser = draw_pick(seed, ("B", "C"), step=1)
    assert first.eliminated == (loser,)
    assert result.winner == ({"B", "C"} - {loser}).pop()
    # Recomputable: the same inputs give the same result, and the pick is plain SHA-256.
    assert ranked_tally(options="ABC", ballots=ballots, draw_seed=seed) == result
    text = f"{seed}\nstep:1\noptions:B,C".encode()
    assert loser == ("B", "C")[int(hashlib.sha256(text).hexdigest(), 16) % 2]


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


# --- a tie for last place is a tie only when it changes the winner ---------------------------


def brute_force_endings(options: str, ballots: list[RankedBallot]) -> set[tuple[str, object]]:
    """Every way instant runoff can end, over every way of breaking each last-place tie that
    the rules (first preferences, then earlier rounds backwards, zero votes together) leave
    open: the count is re-run from scratch for every sequence of choices."""

    def run(choices: tuple[int, ...]) -> tuple[str, object]:
        left, history, used = list(options), [], 0
        while True:
            counts = {
                o: sum((exact(b.weight) for b in ballots if next((r for r in b.ranking if r in left), None) == o), Fraction(0))
                for o in left
            }
            history.append(counts)
            total = sum(counts.values())
            for o in left:
                if 2 * counts[o] > total:
                    return ("win", o)
            if len(set(counts.values())) == 1:
                return ("tie", frozenset(left))
            last = [o for o in left if counts[o] == min(counts.values())]
            for earlier in [history[0], *reversed(history[1:-1])] if len(history) > 1 else []:
                if len(last) > 1:
                    last = [o for o in last if earlier[o] == min(earlier[x] for x in last)]
            if len(last) > 1 and counts[last[0]] == 0:
                left = [o for o in left if o not in last]
                continue
            if len(last) > 1:
                if used == len(choices):
                    return ("choose", len(last))
                last, used = [last[choices[used]]], used + 1
            left.remove(last[0])

    endings: set[tuple[str, object]] = set()
    todo: list[tuple[int, ...]] = [()]
    while todo:
        choices = todo.pop()
        kind, value = run(choices)
        if kind == "choose":
            todo.extend((*choices, i) for i in range(value))  # type: ignore[call-overload]
        else:
            endings.add((kind, value))
    return endings


SMALL = "ABCD"
small_ballots = st.lists(st.builds(RankedBallot, st.lists(st.sampled_from(SMALL), unique=True, max_size=3).map(tuple)), max_size=14)


@settings(max_examples=400)
@given(small_ballots)
def test_only_a_tie_that_changes_the_winner_stops_the_count(ballots: list[RankedBallot]) -> None:
    endings = brute_force_endings(SMALL, ballots)
    result = ranked_tally(options=SMALL, ballots=ballots)
    if len(endings) == 1:
        kind, value = endings.pop()
        if kind == "win":
            assert (result.outcome, result.winner) == (Outcome.WINNER, value)
        else:
            assert (result.outcome, set(result.tied)) == (Outcome.TIE, value)
            assert result.reason != Reason.ELIMINATION_TIE_UNRESOLVED
    else:
        possible = {o for kind, value in endings for o in ([value] if kind == "win" else value)}  # type: ignore[list-item]
        assert (result.outcome, result.reason) == (Outcome.TIE, Reason.ELIMINATION_TIE_UNRESOLVED)
        assert set(result.possible_winners) == possible
        assert set(result.tied) <= {c.option for c in result.rounds[-1].counts}


@settings(max_examples=200)
@given(small_ballots, st.text(max_size=8))
def test_a_draw_always_decides_and_picks_a_possible_winner(ballots: list[RankedBallot], value: str) -> None:
    plain = ranked_tally(options=SMALL, ballots=ballots)
    drawn = ranked_tally(options=SMALL, ballots=ballots, draw_seed=draw_seed(motion_id=1, tied=plain.tied, public_value=value))
    if plain.outcome == Outcome.WINNER:
        assert drawn == plain  # a draw never touches a count that has a winner
    elif plain.reason == Reason.ELIMINATION_TIE_UNRESOLVED:
        assert drawn.winner in plain.possible_winners
    elif plain.reason == Reason.ALL_REMAINING_TIED:
        assert drawn.winner in plain.tied


def test_most_last_place_ties_in_community_sized_votes_change_nothing() -> None:
    """A measurement, kept as a test: on 2,000 small random elections the old rule (stop at
    every undecidable last place) ended in a tie far more often than the new one."""
    import random

    rnd = random.Random(14)
    stopped_before = stopped_now = 0
    for _ in range(2000):
        voters = rnd.randint(5, 30)
        ballots = [RankedBallot(tuple(rnd.sample("ABCD", rnd.randint(1, 3)))) for _ in range(voters)]
        result = ranked_tally(options="ABCD", ballots=ballots)
        ever_undecided = any(r.tie_break == TieBreak.SAME_WINNER_EITHER_WAY for r in result.rounds)
        stopped_before += ever_undecided or result.reason == Reason.ELIMINATION_TIE_UNRESOLVED
        stopped_now += result.reason == Reason.ELIMINATION_TIE_UNRESOLVED
    assert stopped_now < stopped_before / 2


def test_a_search_too_large_to_finish_reports_the_tie_in_bounded_time() -> None:
    """15 options tied for last place with 100 ballots each and nowhere to transfer: too many
    ways to try. The count stops at the tie (the moderator decides) within about a second."""
    import time

    options = "ABCDEFGHIJKLMNOP"
    ballots = ranked((500, "A"), *((100, o) for o in options[1:]))
    started = time.perf_counter()
    result = ranked_tally(options=options, ballots=ballots)
    assert time.perf_counter() - started < 5
    assert (result.outcome, result.reason, result.possible_winners) == (Outcome.TIE, Reason.ELIMINATION_TIE_UNRESOLVED, tuple(options))


def test_identical_ballots_are_counted_together_and_weights_stay_exact() -> None:
    ballots = [RankedBallot(("A",), Fraction(1, 3)) for _ in range(3)] + [RankedBallot(("B", "A"), Fraction(1, 2)) for _ in range(2)]
    ballots += [RankedBallot(("C", "B"), Fraction(2, 7))]
    result = ranked_tally(options="ABC", ballots=ballots)
    assert [r.votes_for("A") for r in result.rounds] == [Fraction(1), Fraction(1)]
    assert result.rounds[-1].votes_for("B") == Fraction(9, 7) and result.winner == "B"
    assert result.rounds[0].exhausted_ballots == 0
