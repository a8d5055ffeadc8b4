"""Owners' joint decision (Civil Code Art. 278): headcount and area, four conditions."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voting.counting import (
    Art278Result,
    Art278Unit,
    Choice,
    Outcome,
    Reason,
    Threshold,
    art278_tally,
)

Y, N, A = Choice.YES, Choice.NO, Choice.ABSTAIN


def units(**owners: str | list[str]) -> list[Art278Unit]:
    """owner key → area, or several areas for an owner of several units."""
    out = []
    for owner, areas in owners.items():
        for i, area in enumerate([areas] if isinstance(areas, str) else areas):
            out.append(Art278Unit(unit_id=f"{owner}-{i}", owner_key=owner, area=Decimal(area)))
    return out


def conditions(result: Art278Result) -> tuple[bool, bool, bool, bool]:
    return (result.quorum_headcount.met, result.quorum_area.met, result.pass_headcount.met, result.pass_area.met)


# A building where one owner holds a lot of area: "big" 700 m², eight owners of 10 m² each.
BUILDING = units(big="700", **{f"s{i}": "10" for i in range(1, 9)})
SMALL = [f"s{i}" for i in range(1, 9)]


def votes(yes: list[str] = [], no: list[str] = [], abstain: list[str] = []) -> dict[str, Choice]:  # noqa: B006
    return {**dict.fromkeys(yes, Y), **dict.fromkeys(no, N), **dict.fromkeys(abstain, A)}


ONE_CONDITION_FAILS = [
    # id, ballots, is_major, outcome, (quorum headcount, quorum area, pass headcount, pass area)
    ("all four hold (major)", votes(yes=["big", *SMALL[:6]], no=SMALL[6:]), True, Outcome.PASSED, (True, True, True, True)),
    ("quorum headcount fails: 5 of 9 owners", votes(yes=["big", *SMALL[:4]]), True, Outcome.NO_QUORUM, (False, True, True, True)),
    ("quorum area fails: 60 of 780 m²", votes(yes=SMALL[:6]), False, Outcome.NO_QUORUM, (True, False, True, True)),
    ("pass headcount fails: 5 of 8 < 3/4", votes(yes=["big", *SMALL[:4]], no=SMALL[4:7]), True, Outcome.FAILED, (True, True, False, True)),
    ("pass area fails: 80 of 780 m² < 3/4", votes(yes=SMALL, no=["big"]), True, Outcome.FAILED, (True, True, True, False)),
    (
        "ordinary: pass headcount fails (4 of 8)",
        votes(yes=["big", *SMALL[:3]], no=SMALL[3:7]),
        False,
        Outcome.FAILED,
        (True, True, False, True),
    ),
    ("ordinary: pass area fails", votes(yes=SMALL, abstain=["big"]), False, Outcome.FAILED, (True, True, True, False)),
    ("ordinary: passes", votes(yes=["big", *SMALL[:4]], no=SMALL[4:7]), False, Outcome.PASSED, (True, True, True, True)),
]


@pytest.mark.parametrize(
    ("ballots", "is_major", "outcome", "expected"),
    [case[1:] for case in ONE_CONDITION_FAILS],
    ids=[case[0] for case in ONE_CONDITION_FAILS],
)
def test_each_condition_fails_in_turn(
    ballots: dict[str, Choice], is_major: bool, outcome: Outcome, expected: tuple[bool, bool, bool, bool]
) -> None:
    result = art278_tally(units=BUILDING, ballots=ballots, is_major=is_major)
    assert conditions(result) == expected
    assert result.outcome is outcome
    assert result.quorum_reached == (expected[0] and expected[1])
    assert result.threshold_met == (expected[2] and expected[3])


def test_result_shows_both_tallies_and_both_bases() -> None:
    result = art278_tally(units=BUILDING, ballots=votes(yes=["big", "s1", "s2", "s3"], no=["s4", "s5"], abstain=["s6"]), is_major=True)
    assert (result.eligible.owners, result.eligible.area, result.units) == (9, Decimal("780"), 9)
    assert (result.participating.owners, result.participating.area) == (7, Decimal("760"))
    assert (result.yes.owners, result.yes.area) == (4, Decimal("730"))
    assert (result.no.owners, result.no.area) == (2, Decimal("20"))
    assert (result.abstain.owners, result.abstain.area) == (1, Decimal("10"))
    assert result.quorum_headcount.base == 9 and result.quorum_headcount.value == 7
    assert result.quorum_headcount.threshold is Threshold.AT_LEAST_TWO_THIRDS
    assert result.pass_headcount.base == 7 and result.pass_area.base == Decimal("760")
    assert result.pass_headcount.threshold is Threshold.AT_LEAST_THREE_QUARTERS
    assert result.pass_headcount.share == Fraction(4, 7)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.THRESHOLD_NOT_MET)


def test_an_owner_of_several_units_counts_once_with_the_summed_area() -> None:
    # "multi" holds three units; "solo" one. Per unit, yes would be 3 of 4; per owner it is 1 of 2.
    community = units(multi=["80.50", "90.25", "60"], solo="100")
    result = art278_tally(units=community, ballots={"multi": Y, "solo": N}, is_major=False)
    assert (result.units, result.eligible.owners, result.eligible.area) == (4, 2, Decimal("330.75"))
    assert (result.yes.owners, result.yes.area) == (1, Decimal("230.75"))
    assert conditions(result) == (True, True, False, True)  # exactly half the owners is not more than half
    assert result.outcome is Outcome.FAILED


# Exact boundaries: three owners with areas chosen so that the shares land exactly.
@pytest.mark.parametrize(
    ("areas", "ballots", "is_major", "expected"),
    [
        # quorum: 2 of 3 owners is exactly 2/3; 200 of 300 m² exactly 2/3 → quorum holds
        ({"a": "100", "b": "100", "c": "100"}, {"a": Y, "b": Y}, False, (True, True, True, True)),
        # 199.99 of 300 m²: just under 2/3
        ({"a": "99.99", "b": "100", "c": "100.01"}, {"a": Y, "b": Y}, False, (True, False, True, True)),
        # 200.01 of 300: just over
        ({"a": "100.01", "b": "100", "c": "99.99"}, {"a": Y, "b": Y}, False, (True, True, True, True)),
    ],
)
def test_quorum_boundaries(areas: dict[str, str], ballots: dict[str, Choice], is_major: bool, expected: tuple[bool, ...]) -> None:
    assert conditions(art278_tally(units=units(**areas), ballots=ballots, is_major=is_major)) == expected


FOUR = {"a": "75", "b": "25", "c": "50", "d": "50"}  # 200 m²


@pytest.mark.parametrize(
    ("ballots", "is_major", "passes"),
    [
        # major: exactly 3/4 of owners (3 of 4) and exactly 3/4 of area (150 of 200) passes
        ({"a": Y, "c": Y, "d": Y, "b": N}, True, (True, True)),
        # major: 3 of 4 owners but 125 of 200 m² (just 5/8): area fails
        ({"b": Y, "c": Y, "d": Y, "a": N}, True, (True, False)),
        # major: 2 of 4 owners, 125 of 200 m²
        ({"a": Y, "d": Y, "b": N, "c": N}, True, (False, False)),
        # ordinary: exactly half the owners (2 of 4) and exactly half the area (100 of 200) both fail
        ({"a": Y, "b": Y, "c": N, "d": N}, False, (False, False)),
        # ordinary: 2 of 4 owners but 125 of 200 m²: area passes, headcount does not
        ({"a": Y, "c": Y, "b": N, "d": N}, False, (False, True)),
        # ordinary: abstentions count in the participating base
        ({"a": Y, "c": Y, "b": A, "d": N}, False, (False, True)),
        # ordinary: 3 of 4 owners, 150 of 200 m²
        ({"a": Y, "c": Y, "d": Y, "b": N}, False, (True, True)),
    ],
)
def test_pass_boundaries(ballots: dict[str, Choice], is_major: bool, passes: tuple[bool, bool]) -> None:
    result = art278_tally(units=units(**FOUR), ballots=ballots, is_major=is_major)
    assert (result.pass_headcount.met, result.pass_area.met) == passes
    assert result.outcome is (Outcome.PASSED if all(passes) else Outcome.FAILED)


def test_no_ballots_is_no_quorum_with_empty_participating_base() -> None:
    result = art278_tally(units=BUILDING, ballots={}, is_major=False)
    assert (result.outcome, result.participating.owners, result.participating.area) == (Outcome.NO_QUORUM, 0, 0)
    assert result.pass_headcount.share is None and not result.pass_headcount.met


def test_area_sums_stay_exact() -> None:
    community = [Art278Unit(f"u{i}", f"o{i}", Decimal("0.1")) for i in range(30)]
    result = art278_tally(units=community, ballots={f"o{i}": Y for i in range(20)}, is_major=True)
    assert result.participating.area == Decimal("2.0") and result.eligible.area == Decimal("3.0")
    assert result.quorum_area.share == Fraction(2, 3) and result.quorum_area.met


def test_a_unit_without_recorded_area_counts_by_headcount_only() -> None:
    result = art278_tally(units=units(a="0", b="0"), ballots={"a": Y, "b": Y}, is_major=False)
    assert (result.participating.owners, result.participating.area) == (2, Decimal(0))
    assert conditions(result) == (True, False, True, False)
    assert result.outcome is Outcome.NO_QUORUM
    mixed = art278_tally(units=units(a="0", b="90", c="10"), ballots={"a": Y, "b": Y, "c": N}, is_major=False)
    assert (mixed.yes.owners, mixed.yes.area, mixed.outcome) == (2, Decimal(90), Outcome.PASSED)


def test_choices_may_be_given_as_plain_strings() -> None:
    result = art278_tally(units=units(a="10", b="10"), ballots={"a": "yes", "b": "yes"}, is_major=True)  # type: ignore[dict-item]
    assert result.outcome is Outcome.PASSED


@pytest.mark.parametrize(
    ("community", "ballots", "error"),
    [
        (units(a="10"), {"stranger": Y}, ValueError),  # not an owner of an eligible unit
        ([Art278Unit("1", "a", Decimal(10)), Art278Unit("1", "b", Decimal(10))], {}, ValueError),  # unit twice
        ([Art278Unit("1", "a", Decimal(-1))], {}, ValueError),
        ([Art278Unit("1", "a", Decimal("NaN"))], {}, ValueError),
        ([Art278Unit("1", "a", 10.5)], {}, TypeError),  # type: ignore[arg-type]
        ([], {}, ValueError),
        (units(a="10"), {"a": "maybe"}, ValueError),
    ],
)
def test_bad_input_is_refused(community: list[Art278Unit], ballots: dict[str, Choice], error: type[Exception]) -> None:
    with pytest.raises(error):
        art278_tally(units=community, ballots=ballots, is_major=False)


# --- properties ----------------------------------------------------------------------------

areas = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2)
owner_units = st.lists(st.tuples(st.integers(0, 9), areas), min_size=1, max_size=25)


@given(owner_units, st.data(), st.booleans())
def test_tallies_add_up_and_ignore_order(pairs: list[tuple[int, Decimal]], data: st.DataObject, is_major: bool) -> None:
    community = [Art278Unit(f"u{i}", f"o{owner}", area) for i, (owner, area) in enumerate(pairs)]
    owners = sorted({u.owner_key for u in community})
    ballots = {k: data.draw(st.sampled_from([Y, N, A])) for k in owners if data.draw(st.booleans())}
    result = art278_tally(units=community, ballots=ballots, is_major=is_major)

    assert result.eligible.owners == len(owners)
    assert result.eligible.area == sum((u.area for u in community), Decimal(0))
    parts = (result.yes, result.no, result.abstain)
    assert sum(p.owners for p in parts) == result.participating.owners == len(ballots)
    assert sum((p.area for p in parts), Decimal(0)) == result.participating.area

    shuffled_units = data.draw(st.permutations(community))
    shuffled_ballots = dict(data.draw(st.permutations(list(ballots.items()))))
    assert art278_tally(units=shuffled_units, ballots=shuffled_ballots, is_major=is_major) == result


@given(owner_units, st.data())
def test_one_more_yes_never_hurts(pairs: list[tuple[int, Decimal]], data: st.DataObject) -> None:
    community = [Art278Unit(f"u{i}", f"o{owner}", area) for i, (owner, area) in enumerate(pairs)]
    owners = sorted({u.owner_key for u in community})
    ballots = {k: data.draw(st.sampled_from([Y, N, A])) for k in owners if data.draw(st.booleans())}
    silent = [k for k in owners if k not in ballots]
    if not silent:
        return
    is_major = data.draw(st.booleans())
    before = art278_tally(units=community, ballots=ballots, is_major=is_major)
    after = art278_tally(units=community, ballots={**ballots, data.draw(st.sampled_from(silent)): Y}, is_major=is_major)
    rank = {Outcome.NO_QUORUM: 0, Outcome.FAILED: 1, Outcome.PASSED: 2}
    assert rank[after.outcome] >= rank[before.outcome]
