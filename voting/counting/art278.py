"""Owners' joint decision (业主共同决定) under Civil Code Art. 278 — two tallies, four conditions.

**Headcount** counts owners by exclusive units: one unit is one owner, and units held by the
same owner count once. The caller gives every eligible unit with an ``owner_key``; units with the
same key are one owner (co-owners of a unit share one key and cast one ballot). **Area** is the
exclusive floor area (专有部分面积): an owner's area is the sum of all their units.

- **Quorum** (both): participating owners >= 2/3 of all owners, AND their area >= 2/3 of the
  total area. An owner who abstains (弃权) participates.
- **Pass**, measured against the *participating* owners and area (both must hold):
  major matters (``is_major=True``: raising or using maintenance funds for rebuilding, rebuilding,
  changing the use of common parts or using them commercially) yes >= 3/4 of the participating
  headcount AND yes area >= 3/4 of the participating area; other matters yes > 1/2 of both.
  ("以上" includes the number itself; "过半数" is strictly more than half: exactly half fails.)
- Outcome: NO_QUORUM if either quorum condition fails (the pass conditions are still computed
  for display), else PASSED if both pass conditions hold, else FAILED. There is no TIE.

Channels: ballots are keyed by owner key whatever the channel. The caller merges in-person
(现场, paper) and online (线上) ballots so that each owner has at most one ballot before calling.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, Inexact, Rounded, localcontext
from fractions import Fraction

from .types import Choice, Outcome, Reason, Threshold

QUORUM_THRESHOLD = Threshold.AT_LEAST_TWO_THIRDS


@dataclass(frozen=True)
class Art278Unit:
    """One exclusive unit (专有部分) with its owner and exclusive floor area in m²."""

    unit_id: str
    owner_key: str
    area: Decimal


@dataclass(frozen=True)
class Art278Tally:
    owners: int  # headcount (distinct owner keys)
    area: Decimal  # m², exact


@dataclass(frozen=True)
class Art278Condition:
    """One of the four conditions: ``value`` against ``base`` under ``threshold``."""

    value: int | Decimal
    base: int | Decimal
    threshold: Threshold
    share: Fraction | None  # value / base; None when the base is 0
    met: bool


@dataclass(frozen=True)
class Art278Result:
    outcome: Outcome  # PASSED, FAILED or NO_QUORUM
    reason: Reason  # QUORUM_NOT_REACHED, THRESHOLD_MET or THRESHOLD_NOT_MET
    is_major: bool
    units: int  # eligible exclusive units
    eligible: Art278Tally  # all owners, total area
    participating: Art278Tally  # owners who cast a ballot (abstentions included)
    yes: Art278Tally  # 赞成
    no: Art278Tally  # 反对
    abstain: Art278Tally  # 弃权
    quorum_headcount: Art278Condition  # participating.owners >= 2/3 of eligible.owners
    quorum_area: Art278Condition  # participating.area >= 2/3 of eligible.area
    pass_headcount: Art278Condition  # yes.owners vs participating.owners
    pass_area: Art278Condition  # yes.area vs participating.area
    quorum_reached: bool
    threshold_met: bool  # both pass conditions


def _exact_sum(values: Iterable[Decimal]) -> Decimal:
    """Sum of decimals with no rounding (raises if it could not be exact)."""
    with localcontext() as ctx:
        ctx.prec = 60
        ctx.traps[Inexact] = True
        ctx.traps[Rounded] = True
        return sum(values, Decimal(0))


def _condition(value: int | Decimal, base: int | Decimal, threshold: Threshold) -> Art278Condition:
    return Art278Condition(
        value=value,
        base=base,
        threshold=threshold,
        share=Fraction(value) / Fraction(base) if base else None,
        met=threshold.met(value, base),
    )


def art278_tally(
    *,
    units: Iterable[Art278Unit],
    ballots: Mapping[str, Choice],
    is_major: bool,
) -> Art278Result:
    """Count an owners' joint decision.

    ``units``: every eligible exclusive unit (at least one; unique unit ids; Decimal areas).
    A unit whose area is not on record may be given as 0: its owner counts by headcount only,
    and a total area of 0 means the area quorum cannot be met (NO_QUORUM) — the caller should
    flag missing areas. ``ballots``: owner key -> choice, one per owner, channels merged.
    Raises ValueError for a ballot from an owner key that holds no eligible unit, duplicate
    units, or negative areas; TypeError for a non-Decimal area.
    """
    area_of_owner: dict[str, list[Decimal]] = {}
    seen_units: set[str] = set()
    for unit in units:
        if unit.unit_id in seen_units:
            raise ValueError(f"unit {unit.unit_id!r} is listed twice")
        seen_units.add(unit.unit_id)
        if not isinstance(unit.area, Decimal):
            raise TypeError(f"unit {unit.unit_id!r}: area must be a Decimal, got {type(unit.area).__name__}")
        if not unit.area.is_finite() or unit.area < 0:
            raise ValueError(f"unit {unit.unit_id!r}: area must not be negative, got {unit.area}")
        area_of_owner.setdefault(unit.owner_key, []).append(unit.area)
    if not seen_units:
        raise ValueError("an Art. 278 decision needs at least one eligible unit")
    owner_area = {key: _exact_sum(areas) for key, areas in area_of_owner.items()}

    strangers = set(ballots) - owner_area.keys()
    if strangers:
        raise ValueError(f"ballots from owners holding no eligible unit: {sorted(strangers)}")

    def tally(keys: Iterable[str]) -> Art278Tally:
        chosen = list(keys)
        return Art278Tally(owners=len(chosen), area=_exact_sum(owner_area[k] for k in chosen))

    eligible = tally(owner_area)
    by_choice = {c: tally(k for k, v in ballots.items() if Choice(v) is c) for c in Choice}
    participating = tally(ballots)

    pass_threshold = Threshold.AT_LEAST_THREE_QUARTERS if is_major else Threshold.MORE_THAN_HALF
    quorum_headcount = _condition(participating.owners, eligible.owners, QUORUM_THRESHOLD)
    quorum_area = _condition(participating.area, eligible.area, QUORUM_THRESHOLD)
    yes = by_choice[Choice.YES]
    pass_headcount = _condition(yes.owners, participating.owners, pass_threshold)
    pass_area = _condition(yes.area, participating.area, pass_threshold)

    quorum_reached = quorum_headcount.met and quorum_area.met
    threshold_met = pass_headcount.met and pass_area.met
    if not quorum_reached:
        outcome, reason = Outcome.NO_QUORUM, Reason.QUORUM_NOT_REACHED
    elif threshold_met:
        outcome, reason = Outcome.PASSED, Reason.THRESHOLD_MET
    else:
        outcome, reason = Outcome.FAILED, Reason.THRESHOLD_NOT_MET

    return Art278Result(
        outcome=outcome,
        reason=reason,
        is_major=is_major,
        units=len(seen_units),
        eligible=eligible,
        participating=participating,
        yes=yes,
        no=by_choice[Choice.NO],
        abstain=by_choice[Choice.ABSTAIN],
        quorum_headcount=quorum_headcount,
        quorum_area=quorum_area,
        pass_headcount=pass_headcount,
        pass_area=pass_area,
        quorum_reached=quorum_reached,
        threshold_met=threshold_met,
    )
