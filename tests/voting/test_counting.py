"""Approve/reject, single choice and approval counting: every boundary, and properties.

Pure rules: no database, no Django (runs with ``-p no:django`` too).
"""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voting.counting import (
    ApprovalBallot,
    ApproveRejectBallot,
    Base,
    Choice,
    Outcome,
    PluralityBallot,
    Reason,
    Threshold,
    approval_tally,
    approve_reject_tally,
    exact,
    plurality_tally,
)

Y, N, A = Choice.YES, Choice.NO, Choice.ABSTAIN
HALF, TWO_THIRDS, THREE_QUARTERS = Threshold.MORE_THAN_HALF, Threshold.AT_LEAST_TWO_THIRDS, Threshold.AT_LEAST_THREE_QUARTERS


def ballots(yes: int = 0, no: int = 0, abstain: int = 0) -> list[ApproveRejectBallot]:
    return [ApproveRejectBallot(Y)] * yes + [ApproveRejectBallot(N)] * no + [ApproveRejectBallot(A)] * abstain


def test_the_counting_rules_import_no_django() -> None:
    probe = "import sys, voting.counting; print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- thresholds ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("threshold", "yes", "base", "met"),
    [
        (HALF, 1, 2, False),  # exactly half is not more than half
        (HALF, 51, 100, True),
        (HALF, 50, 100, False),
        (HALF, 501, 1001, True),  # just over
        (HALF, 500, 1001, False),  # just under
        (TWO_THIRDS, 2, 3, True),  # exactly 2/3
        (TWO_THIRDS, 199, 300, False),  # just under
        (TWO_THIRDS, 200, 300, True),
        (TWO_THIRDS, 201, 300, True),
        (THREE_QUARTERS, 3, 4, True),  # exactly 3/4
        (THREE_QUARTERS, 299, 400, False),  # just under
        (THREE_QUARTERS, 301, 400, True),
        (HALF, 0, 0, False),  # empty base: never met
        (TWO_THIRDS, 0, 0, False),
        (THREE_QUARTERS, Decimal("0.75"), Decimal("1.00"), True),
        (THREE_QUARTERS, Decimal("74.99"), Decimal("100"), False),
        (TWO_THIRDS, Fraction(2, 9), Fraction(1, 3), True),
    ],
)
def test_threshold_boundaries(threshold: Threshold, yes: object, base: object, met: bool) -> None:
    assert threshold.met(yes, base) is met  # type: ignore[arg-type]


def test_threshold_fractions_and_inclusiveness() -> None:
    assert [(t.fraction, t.inclusive) for t in Threshold] == [
        (Fraction(1, 2), False),
        (Fraction(2, 3), True),
        (Fraction(3, 4), True),
    ]


def test_floats_are_refused_everywhere() -> None:
    with pytest.raises(TypeError):
        exact(0.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Threshold.MORE_THAN_HALF.met(0.6, 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        approve_reject_tally(ballots=[ApproveRejectBallot(Y, weight=1.5)], base=Base.YES_NO, threshold=HALF)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        exact(True)  # type: ignore[arg-type]


# --- approve / reject ----------------------------------------------------------------------

CASES = [
    # id, (yes, no, abstain), base, threshold, eligible, quorum, outcome, reason
    ("majority 2-1", (2, 1, 0), Base.YES_NO, HALF, None, None, Outcome.PASSED, Reason.THRESHOLD_MET),
    ("majority 1-2", (1, 2, 0), Base.YES_NO, HALF, None, None, Outcome.FAILED, Reason.THRESHOLD_NOT_MET),
    ("yes equals no is a tie", (1, 1, 0), Base.YES_NO, HALF, None, None, Outcome.TIE, Reason.YES_EQUALS_NO),
    ("50-50 tie, abstentions ignored", (50, 50, 7), Base.YES_NO, HALF, None, None, Outcome.TIE, Reason.YES_EQUALS_NO),
    ("51-50 just over", (51, 50, 0), Base.YES_NO, HALF, None, None, Outcome.PASSED, Reason.THRESHOLD_MET),
    ("50-51 just under", (50, 51, 0), Base.YES_NO, HALF, None, None, Outcome.FAILED, Reason.THRESHOLD_NOT_MET),
    ("zero ballots, no quorum", (0, 0, 0), Base.YES_NO, HALF, None, None, Outcome.FAILED, Reason.EMPTY_BASE),
    ("only abstentions", (0, 0, 3), Base.YES_NO, HALF, None, None, Outcome.FAILED, Reason.EMPTY_BASE),
    ("zero ballots with quorum", (0, 0, 0), Base.YES_NO, HALF, 10, Fraction(1, 2), Outcome.NO_QUORUM, Reason.QUORUM_NOT_REACHED),
    ("zero ballots, quorum 0", (0, 0, 0), Base.YES_NO, HALF, 10, 0, Outcome.FAILED, Reason.EMPTY_BASE),
    ("abstain counts: exactly half", (3, 2, 1), Base.YES_NO_ABSTAIN, HALF, None, None, Outcome.FAILED, Reason.THRESHOLD_NOT_MET),
    ("abstain counts: just over", (4, 2, 1), Base.YES_NO_ABSTAIN, HALF, None, None, Outcome.PASSED, Reason.THRESHOLD_MET),
    ("abstain base, 2-2-0 tie", (2, 2, 0), Base.YES_NO_ABSTAIN, HALF, None, None, Outcome.TIE, Reason.YES_EQUALS_NO),
    ("abstain base, 2-2-1 fails", (2, 2, 1), Base.YES_NO_ABSTAIN, HALF, None, None, Outcome.FAILED, Reason.THRESHOLD_NOT_MET),
    ("same votes pass on yes+no", (3, 2, 5), Base.YES_NO, HALF, None, None, Outcome.PASSED, Reason.THRESHOLD_MET),
    ("same votes fail on yes+no+abstain", (3, 2, 5), Base.YES_NO_ABSTAIN, HALF, None, None, Outcome.FAILED, Reason.THRESHOLD_NOT_MET),
    ("all eligible: exactly half", (5, 0, 0), Base.ALL_ELIGIBLE, HALF, 10, None, Outcome.FAILED, Reason.THRESHOLD_NOT_MET),
    ("all eligible: just over", (6, 0, 0), Base.ALL_ELIGIBLE, HALF, 10, None, Outcome.PASSED, Reason.THRESHOLD_MET),
    ("all eligible: everyone voted 5-5", (5, 5, 0), Base.ALL_ELIGIBLE, HALF, 10, None, Outcome.TIE, Reason.YES_EQUALS_NO),
    ("all eligible: 5-5 of 11 fails", (5, 5, 0), Base.ALL_ELIGIBLE, HALF, 11, None, Outcome.FAILED, Reason.THRESHOLD_NOT_MET),
    ("2/3 exactly", (2, 1, 0), Base.YES_NO, TWO_THIRDS, None, None, Outcome.PASSED, Reason.THRESHOLD_MET),
    ("2/3 just under", (199, 101, 0), Base.YES_NO, TWO_THIRDS, None, None, Outcome.FAILED, Reason.THRESHOLD_NOT_MET),
    ("2/3 just over", (201, 99, 0), Base.YES_NO, TWO_THIRDS, None, None, Outcome.PASSED, Reason.THRESHOLD_MET),
    ("2/3: yes equals no is a plain fail", (1, 1, 0), Base.YES_NO, TWO_THIRDS, None, None, Outcome.FAILED, Reason.THRESHOLD_NOT_MET),
    ("2/3 of all eligible exactly", (20, 0, 0), Base.ALL_ELIGIBLE, TWO_THIRDS, 30, None, Outcome.PASSED, Reason.THRESHOLD_MET),
    ("2/3 of all eligible just under", (19, 1, 0), Base.ALL_ELIGIBLE, TWO_THIRDS, 30, None, Outcome.FAILED, Reason.THRESHOLD_NOT_MET),
    ("3/4 exactly", (3, 1, 0), Base.YES_NO, THREE_QUARTERS, None, None, Outcome.PASSED, Reason.THRESHOLD_MET),
    ("3/4 just under", (299, 101, 0), Base.YES_NO, THREE_QUARTERS, None, None, Outcome.FAILED, Reason.THRESHOLD_NOT_MET),
    ("3/4 just over", (301, 99, 0), Base.YES_NO, THREE_QUARTERS, None, None, Outcome.PASSED, Reason.THRESHOLD_MET),
    ("3/4 with abstentions exactly", (6, 1, 1), Base.YES_NO_ABSTAIN, THREE_QUARTERS, None, None, Outcome.PASSED, Reason.THRESHOLD_MET),
    ("quorum exactly reached", (5, 0, 0), Base.YES_NO, HALF, 10, Fraction(1, 2), Outcome.PASSED, Reason.THRESHOLD_MET),
    ("quorum missed by one", (4, 0, 0), Base.YES_NO, HALF, 10, Fraction(1, 2), Outcome.NO_QUORUM, Reason.QUORUM_NOT_REACHED),
    ("abstentions count for quorum", (1, 0, 4), Base.YES_NO, HALF, 10, Fraction(1, 2), Outcome.PASSED, Reason.THRESHOLD_MET),
    ("quorum missed even if unanimous", (6, 0, 0), Base.YES_NO, HALF, 10, Fraction(2, 3), Outcome.NO_QUORUM, Reason.QUORUM_NOT_REACHED),
    ("quorum reached, tie", (3, 3, 0), Base.YES_NO, HALF, 10, Fraction(1, 2), Outcome.TIE, Reason.YES_EQUALS_NO),
]


@pytest.mark.parametrize(
    ("votes", "base", "threshold", "eligible", "quorum", "outcome", "reason"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_approve_reject_table(
    votes: tuple[int, int, int],
    base: Base,
    threshold: Threshold,
    eligible: int | None,
    quorum: Fraction | None,
    outcome: Outcome,
    reason: Reason,
) -> None:
    result = approve_reject_tally(ballots=ballots(*votes), base=base, threshold=threshold, eligible=eligible, quorum=quorum)
    assert (result.outcome, result.reason) == (outcome, reason)
    assert (result.yes, result.no, result.abstain) == votes
    assert (result.yes_ballots, result.no_ballots, result.abstain_ballots) == votes


def test_result_carries_everything_to_display() -> None:
    result = approve_reject_tally(
        ballots=ballots(7, 3, 2), base=Base.YES_NO_ABSTAIN, threshold=TWO_THIRDS, eligible=20, quorum=Fraction(1, 2)
    )
    assert result.outcome is Outcome.FAILED
    assert result.base is Base.YES_NO_ABSTAIN
    assert result.base_total == 12
    assert result.yes_share == Fraction(7, 12)
    assert result.required_fraction == Fraction(2, 3)
    assert result.threshold_met is False
    p = result.participation
    assert (p.ballots, p.weight, p.eligible, p.rate) == (12, 12, 20, Fraction(3, 5))
    assert (p.quorum, p.quorum_required, p.quorum_reached) == (Fraction(1, 2), 10, True)


def test_empty_base_shows_no_share() -> None:
    result = approve_reject_tally(ballots=[], base=Base.YES_NO, threshold=HALF)
    assert (result.base_total, result.yes_share, result.participation.quorum_reached) == (0, None, True)
    assert result.participation.rate is None


def test_weights_are_exact() -> None:
    # 0.1 + 0.2 is not 0.3 in floats; in Decimals and Fractions it is.
    weighted = [
        ApproveRejectBallot(Y, weight=Decimal("0.1")),
        ApproveRejectBallot(Y, weight=Decimal("0.2")),
        ApproveRejectBallot(N, weight=Fraction(3, 20)),
    ]
    result = approve_reject_tally(ballots=weighted, base=Base.YES_NO, threshold=TWO_THIRDS)
    assert result.yes == Fraction(3, 10)
    assert result.yes_share == Fraction(2, 3)
    assert result.outcome is Outcome.PASSED
    assert (result.yes_ballots, result.no_ballots) == (2, 1)


def test_a_heavy_ballot_outweighs_several_light_ones() -> None:
    heavy = [ApproveRejectBallot(Y, weight=3), *ballots(no=2)]
    assert approve_reject_tally(ballots=heavy, base=Base.YES_NO, threshold=HALF).outcome is Outcome.PASSED


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"base": Base.ALL_ELIGIBLE}, ValueError),  # needs eligible
        ({"base": Base.YES_NO, "quorum": Fraction(1, 2)}, ValueError),  # quorum needs eligible
        ({"base": Base.YES_NO, "eligible": 2}, ValueError),  # 3 ballots cast, only 2 eligible
        ({"base": Base.YES_NO, "eligible": 5, "quorum": 2}, ValueError),  # quorum above 1
    ],
)
def test_inconsistent_input_is_refused(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        approve_reject_tally(ballots=ballots(2, 1), threshold=HALF, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("weight", [0, -1, Decimal("-0.5"), Decimal("NaN")])
def test_non_positive_weights_are_refused(weight: object) -> None:
    with pytest.raises(ValueError):
        approve_reject_tally(ballots=[ApproveRejectBallot(Y, weight=weight)], base=Base.YES_NO, threshold=HALF)  # type: ignore[arg-type]


# --- single choice and approval ------------------------------------------------------------


def choose(*options: str) -> list[PluralityBallot]:
    return [PluralityBallot(o) for o in options]


def test_plurality_winner_needs_only_the_most_votes() -> None:
    result = plurality_tally(options=["a", "b", "c"], ballots=choose("a", "a", "a", "b", "b", "c", "c"))
    assert (result.outcome, result.reason, result.winner, result.leaders) == (Outcome.WINNER, Reason.MOST_VOTES, "a", ("a",))
    assert [(c.option, c.votes) for c in result.counts] == [("a", 3), ("b", 2), ("c", 2)]
    assert result.participation.ballots == 7


def test_plurality_tie_lists_the_tied_options_in_motion_order() -> None:
    result = plurality_tally(options=["c", "b", "a"], ballots=choose("a", "b", "a", "b", "c"))
    assert (result.outcome, result.reason, result.winner) == (Outcome.TIE, Reason.TIED_FOR_MOST, None)
    assert result.leaders == ("b", "a")


def test_plurality_without_ballots_is_a_tie_of_all_options() -> None:
    result = plurality_tally(options=["a", "b"], ballots=[])
    assert (result.outcome, result.reason, result.leaders) == (Outcome.TIE, Reason.NO_VOTES, ("a", "b"))


def test_plurality_options_nobody_chose_are_shown_with_zero() -> None:
    result = plurality_tally(options=["a", "b", "c"], ballots=choose("b"))
    assert result.votes_for("a") == 0 and result.votes_for("c") == 0 and result.winner == "b"


def test_plurality_quorum() -> None:
    short = plurality_tally(options=["a", "b"], ballots=choose("a", "a"), eligible=5, quorum=Fraction(1, 2))
    assert (short.outcome, short.winner, short.leaders) == (Outcome.NO_QUORUM, None, ("a",))
    enough = plurality_tally(options=["a", "b"], ballots=choose("a", "a", "b"), eligible=6, quorum=Fraction(1, 2))
    assert enough.outcome is Outcome.WINNER


def test_plurality_weights() -> None:
    result = plurality_tally(options=["a", "b"], ballots=[PluralityBallot("a", Fraction(5, 2)), *choose("b", "b")])
    assert result.winner == "a"


@pytest.mark.parametrize("options", [[], ["a", "a"]])
def test_plurality_needs_distinct_options(options: list[str]) -> None:
    with pytest.raises(ValueError):
        plurality_tally(options=options, ballots=[])


def test_ballot_for_an_unknown_option_is_refused() -> None:
    with pytest.raises(ValueError):
        plurality_tally(options=["a"], ballots=choose("z"))
    with pytest.raises(ValueError):
        approval_tally(options=["a"], ballots=[ApprovalBallot(frozenset({"a", "z"}))])


def approve(*sets: str) -> list[ApprovalBallot]:
    return [ApprovalBallot(frozenset(s)) for s in sets]


def test_approval_counts_every_approved_option() -> None:
    result = approval_tally(options=["a", "b", "c"], ballots=approve("ab", "b", "bc", "", "a"))
    assert [(c.option, c.votes) for c in result.counts] == [("a", 2), ("b", 3), ("c", 1)]
    assert (result.outcome, result.winner) == (Outcome.WINNER, "b")
    assert result.participation.ballots == 5  # the blank ballot was cast


def test_approval_tie_and_no_votes() -> None:
    tie = approval_tally(options=["a", "b", "c"], ballots=approve("ab", "abc"))
    assert (tie.outcome, tie.leaders) == (Outcome.TIE, ("a", "b"))
    blank = approval_tally(options=["a", "b"], ballots=approve("", ""))
    assert (blank.outcome, blank.reason, blank.participation.ballots) == (Outcome.TIE, Reason.NO_VOTES, 2)


def test_blank_approval_ballots_count_for_quorum() -> None:
    result = approval_tally(options=["a", "b"], ballots=approve("a", "", ""), eligible=6, quorum=Fraction(1, 2))
    assert (result.outcome, result.winner) == (Outcome.WINNER, "a")


# --- properties ----------------------------------------------------------------------------

weights = st.sampled_from([1, 1, 1, 2, 3, Fraction(1, 2), Fraction(2, 3), Decimal("0.25"), Decimal("1.5")])
approve_reject_ballots = st.lists(st.builds(ApproveRejectBallot, st.sampled_from(list(Choice)), weights), max_size=30)
motion_settings = st.tuples(
    st.sampled_from(list(Base)),
    st.sampled_from(list(Threshold)),
    st.sampled_from([0, 1, 2, 5]),  # eligible voters who did not vote
    st.sampled_from([None, Fraction(0), Fraction(1, 3), Fraction(1, 2), Fraction(2, 3), Fraction(1)]),
)
RANK = {Outcome.NO_QUORUM: 0, Outcome.FAILED: 1, Outcome.TIE: 2, Outcome.PASSED: 3}


@given(approve_reject_ballots, motion_settings, st.randoms(use_true_random=False))
def test_approve_reject_is_independent_of_ballot_order(
    cast: list[ApproveRejectBallot], setting: tuple[Base, Threshold, int, Fraction | None], rnd: object
) -> None:
    base, threshold, absent, quorum = setting
    eligible = sum((exact(b.weight) for b in cast), Fraction(0)) + absent
    shuffled = list(cast)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    kwargs = {"base": base, "threshold": threshold, "eligible": eligible, "quorum": quorum}
    assert approve_reject_tally(ballots=shuffled, **kwargs) == approve_reject_tally(ballots=cast, **kwargs)  # type: ignore[arg-type]


@given(approve_reject_ballots, motion_settings, weights)
def test_one_more_yes_never_hurts_the_motion(
    cast: list[ApproveRejectBallot], setting: tuple[Base, Threshold, int, Fraction | None], weight: object
) -> None:
    base, threshold, absent, quorum = setting
    # The extra voter was eligible all along and had not voted yet.
    eligible = sum((exact(b.weight) for b in cast), Fraction(0)) + absent + exact(weight)  # type: ignore[arg-type]
    kwargs = {"base": base, "threshold": threshold, "eligible": eligible, "quorum": quorum}
    before = approve_reject_tally(ballots=cast, **kwargs)  # type: ignore[arg-type]
    after = approve_reject_tally(ballots=[*cast, ApproveRejectBallot(Y, weight)], **kwargs)  # type: ignore[arg-type]
    assert RANK[after.outcome] >= RANK[before.outcome]
    if before.outcome is Outcome.TIE:
        assert after.outcome is Outcome.PASSED


@given(approve_reject_ballots, motion_settings)
def test_counts_add_up(cast: list[ApproveRejectBallot], setting: tuple[Base, Threshold, int, Fraction | None]) -> None:
    base, threshold, absent, quorum = setting
    total = sum((exact(b.weight) for b in cast), Fraction(0))
    result = approve_reject_tally(ballots=cast, base=base, threshold=threshold, eligible=total + absent, quorum=quorum)
    assert result.yes + result.no + result.abstain == result.participation.weight == total
    assert result.yes_ballots + result.no_ballots + result.abstain_ballots == result.participation.ballots == len(cast)
    assert (result.outcome is Outcome.PASSED) == (result.threshold_met and result.participation.quorum_reached)


OPTIONS = ["a", "b", "c", "d"]
plurality_ballots = st.lists(st.builds(PluralityBallot, st.sampled_from(OPTIONS), weights), max_size=30)
approval_ballots = st.lists(st.builds(ApprovalBallot, st.frozensets(st.sampled_from(OPTIONS)), weights), max_size=30)


@given(plurality_ballots, st.randoms(use_true_random=False))
def test_plurality_is_independent_of_ballot_order(cast: list[PluralityBallot], rnd: object) -> None:
    shuffled = list(cast)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert plurality_tally(options=OPTIONS, ballots=shuffled) == plurality_tally(options=OPTIONS, ballots=cast)


@given(plurality_ballots, weights)
def test_a_ballot_for_the_plurality_winner_keeps_it_winning(cast: list[PluralityBallot], weight: object) -> None:
    before = plurality_tally(options=OPTIONS, ballots=cast)
    for favourite in before.leaders:
        after = plurality_tally(options=OPTIONS, ballots=[*cast, PluralityBallot(favourite, weight)])  # type: ignore[arg-type]
        # A winner stays the winner; one of several tied leaders becomes the sole winner.
        assert (after.outcome, after.winner) == (Outcome.WINNER, favourite)


@given(plurality_ballots)
def test_plurality_counts_add_up(cast: list[PluralityBallot]) -> None:
    result = plurality_tally(options=OPTIONS, ballots=cast)
    assert sum(c.votes for c in result.counts) == result.participation.weight == sum(exact(b.weight) for b in cast)


@given(approval_ballots, st.randoms(use_true_random=False))
def test_approval_is_independent_of_ballot_order(cast: list[ApprovalBallot], rnd: object) -> None:
    shuffled = list(cast)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert approval_tally(options=OPTIONS, ballots=shuffled) == approval_tally(options=OPTIONS, ballots=cast)


@given(approval_ballots, st.frozensets(st.sampled_from(OPTIONS)), weights)
def test_approving_the_approval_winner_keeps_it_winning(cast: list[ApprovalBallot], others: frozenset[str], weight: object) -> None:
    before = approval_tally(options=OPTIONS, ballots=cast)
    if before.winner is None:
        return
    after = approval_tally(options=OPTIONS, ballots=[*cast, ApprovalBallot(others | {before.winner}, weight)])  # type: ignore[arg-type]
    assert after.winner == before.winner


@given(approval_ballots)
def test_each_approval_counts_once_per_option(cast: list[ApprovalBallot]) -> None:
    result = approval_tally(options=OPTIONS, ballots=cast)
    for option in OPTIONS:
        assert result.votes_for(option) == sum((exact(b.weight) for b in cast if option in b.options), Fraction(0))
