"""What the progress page, its live frame and the results read: one implementation each.

``progress_of(decision)`` is the participation of a decision against its base
(voting/units.py ``decision_base``): units voted and their area, against the 2/3 quorum of
Civil Code Art. 278, in all and per building, and the counted votes per channel. The progress
page, the live frame (voting/decisions/progress/announce.py) and the results page read it, and
nothing else counts participation. Plain JSON (decimals as strings): it crosses the channel layer.

Per building, a unit counts in every building where it has a household, with the area of its
households there: an owner with flats in two buildings is in both buildings' bars, once in the total.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from agora.infra.isotime import iso_utc
from voting.decisions.ballots import matters_of, options_of
from voting.models import Ballot, Channel, Decision, DecisionVote, MotionKind, StepKind, VoteState
from voting.models import DecisionStep as Step
from voting.units import DecisionBase, DecisionUnit, decision_base, decision_units

CHANNEL_ORDER = [Channel.ONLINE, Channel.PAPER, Channel.DOOR, Channel.PROXY, Channel.IN_PERSON]
# The quorum of Art. 278: two thirds of all owners, by headcount and by area.
QUORUM = (2, 3)


def _percent(part: Decimal, whole: Decimal) -> str:
    """One decimal place, without a trailing ".0" (50, 45.3)."""
    if whole <= 0:
        return "0"
    value = (part * 100 / whole).quantize(Decimal("0.1"))
    return f"{value:f}".removesuffix(".0")


def _bar(voted: Decimal, base: Decimal, *, area: bool) -> dict[str, Any]:
    """One bar: what took part against its base and the 2/3 mark (exact: voted × 3 ≥ base × 2)."""
    num, den = QUORUM
    needed = base * num / den
    if not area:
        needed = Decimal(-(-int(base) * num // den))  # owners are whole: the smallest n with 3n ≥ 2·base
    else:
        needed = needed.quantize(Decimal("0.01"), rounding="ROUND_UP")
    met = base > 0 and voted * den >= base * num
    width = min(Decimal(100), voted * 100 / base) if base > 0 else Decimal(0)
    return {
        "voted": str(voted) if area else int(voted),
        "base": str(base) if area else int(base),
        "needed": str(needed) if area else int(needed),
        "short": (str(max(needed - voted, Decimal(0))) if area else int(max(needed - voted, Decimal(0)))),
        "percent": _percent(voted, base),
        "width": str(width.quantize(Decimal("0.01"))),
        "met": met,
    }


@dataclass(frozen=True)
class _Roster:
    """What progress counts against, read from the roster: the units, their buildings and areas,
    the base (``decision_base``), whether a matter is under Art. 278, the buildings' names."""

    units: list[DecisionUnit]
    base: DecisionBase
    art278: bool
    names: dict[int, str]
    # Read once per roster, so a page costs its votes only: the headcount base, each unit's
    # buildings (building id, its area there, whether it is in the headcount), each building's base.
    head_base: int
    in_head: frozenset[str]
    unit_places: dict[str, list[tuple[int, Decimal]]]
    building_base: dict[int, tuple[int, Decimal]]


# The roster part, per decision, for ROSTER_SECONDS in each process: the base changes only with
# the roster (rare while a decision runs), the votes with every ballot, and they are read each time.
ROSTER_SECONDS = 30.0
_rosters: dict[int, tuple[float, _Roster]] = {}
_rosters_lock = threading.Lock()


def _roster(decision: Decision) -> _Roster:
    now = time.monotonic()
    with _rosters_lock:
        cached = _rosters.get(decision.pk)
    if cached is not None and now - cached[0] < ROSTER_SECONDS:
        return cached[1]
    from agora.roster.models import Building

    units = decision_units(decision, owners=False)
    building_ids = {b for u in units for b in u.building_ids}
    base = decision_base(decision, units=units)
    art278 = any(m.kind == MotionKind.ART278 for m in matters_of(decision))
    # An Art. 278 matter counts the owners with an area on record (voting.selectors.eligible_base):
    # the headcount bar goes by the same base, so the page and the result agree.
    in_head = frozenset(u.unit_key for u in units if not art278 or u.unit_key in base.unit_areas)
    places: dict[str, list[tuple[int, Decimal]]] = {}
    building_base: dict[int, tuple[int, Decimal]] = {}
    for unit in units:
        places[unit.unit_key] = []
        for building_id in unit.building_ids:
            share = unit.building_areas.get(building_id, Decimal(0)) if unit.has_area else Decimal(0)
            places[unit.unit_key].append((building_id, share))
            heads, area = building_base.get(building_id, (0, Decimal(0)))
            building_base[building_id] = (heads + (1 if unit.unit_key in in_head else 0), area + share)
    roster = _Roster(
        units=units,
        base=base,
        art278=art278,
        names=dict(Building.objects.filter(pk__in=building_ids).values_list("pk", "name")),
        head_base=len(in_head),
        in_head=in_head,
        unit_places=places,
        building_base=building_base,
    )
    with _rosters_lock:
        _rosters[decision.pk] = (now, roster)
    return roster


def roster_forget(*args: Any, **kwargs: Any) -> None:
    """Read the roster again next time (a roster change in this process; others wait ROSTER_SECONDS)."""
    with _rosters_lock:
        _rosters.clear()


def progress_of(decision: Decision) -> dict[str, Any]:
    """The decision's participation now: ``headcount`` and ``area`` bars (all units), per
    building, per channel, and the paper ballots still held for their second entry."""
    roster = _roster(decision)
    units, base, art278, names = roster.units, roster.base, roster.art278, roster.names
    votes = list(DecisionVote.objects.filter(decision=decision).exclude(state=VoteState.VOIDED).values_list("unit_key", "channel", "state"))
    counted = {key for key, _channel, state in votes if state == VoteState.COUNTED}
    per_channel: dict[str, int] = {}
    for _key, channel, state in votes:
        if state == VoteState.COUNTED:
            per_channel[channel] = per_channel.get(channel, 0) + 1
    held = sum(1 for _k, _c, state in votes if state != VoteState.COUNTED)

    head_base = roster.head_base
    head_voted = sum(1 for k in counted if k in roster.in_head)
    area_voted = sum((base.unit_areas[k] for k in counted if k in base.unit_areas), Decimal("0"))
    voted_in: dict[int, list[Any]] = {b: [0, Decimal(0)] for b in roster.building_base}
    for key in counted:
        for building_id, share in roster.unit_places.get(key, ()):
            row = voted_in[building_id]
            row[0] += 1 if key in roster.in_head else 0
            row[1] += share
    building_rows = [
        {
            "id": building_id,
            "name": names.get(building_id, ""),
            "headcount": _bar(Decimal(voted_in[building_id][0]), Decimal(heads), area=False),
            "area": _bar(voted_in[building_id][1], area, area=True),
        }
        for building_id, (heads, area) in sorted(roster.building_base.items(), key=lambda kv: _building_order(names.get(kv[0], "")))
    ]
    return {
        "decision_id": decision.pk,
        "state": decision.state,
        "results_live": decision.results_live,
        "art278": art278,
        "units": len(units),
        "headcount": _bar(Decimal(head_voted), Decimal(head_base), area=False),
        "area": _bar(area_voted, base.area, area=True),
        "quorum_met": head_base > 0 and head_voted * 3 >= head_base * 2 and base.area > 0 and area_voted * 3 >= base.area * 2,
        "buildings": building_rows,
        "channels": [{"code": c.value, "count": per_channel.get(c.value, 0)} for c in CHANNEL_ORDER],
        "counted": len(counted),
        "held": held,
        "closes_at": iso_utc(decision.closes_at),
        "read_at": time.time(),
    }


def _building_order(name: str) -> tuple[int, str]:
    """Buildings in their numbers' order (2号楼 before 10号楼), then by name."""
    digits = "".join(ch for ch in name if ch.isdigit())
    return (int(digits) if digits else 1 << 30, name)


def open_counts(decision: Decision) -> list[dict[str, Any]]:
    """The choices counted so far on each matter of an open ballot (a secret decision's ballots
    are sealed until the close: none). Shown only to whom ``sees_counts`` allows."""
    if decision.secret:
        return []
    out = []
    for matter in matters_of(decision):
        counts: dict[int, int] = {}
        for choice in Ballot.objects.filter(motion=matter).values_list("choice", flat=True):
            for option_id in choice[:1] if matter.kind == MotionKind.RANKED else choice:
                counts[option_id] = counts.get(option_id, 0) + 1
        out.append(
            {
                "id": matter.pk,
                "position": matter.position,
                "text": matter.text,
                "options": [{"id": o.pk, "code": o.code, "label": o.label, "count": counts.get(o.pk, 0)} for o in options_of(matter)],
            }
        )
    return out


RESULT_KINDS = [StepKind.PRELIMINARY, StepKind.CORRECTED, StepKind.FINAL]


def result_steps(decision: Decision) -> list[Step]:
    """The decision's published result steps, oldest first: the preliminary result, each
    correction after a recount, the final announcement."""
    return list(Step.objects.filter(decision=decision, kind__in=RESULT_KINDS).order_by("seq"))


def progress_context(progress: dict[str, Any], counts: list[dict[str, Any]] | None) -> dict[str, Any]:
    """What the progress fragment renders (the page and every live frame): the numbers, each
    channel with its name, and the counts of choices only when the reader may see them (None)."""
    channels = [{**c, "label": Channel(c["code"]).label} for c in progress["channels"]]
    return {"progress": {**progress, "channels": channels}, "counts": counts}


def result_of(decision: Decision) -> dict[str, Any] | None:
    """The result as published, read from the sealed steps (``step_body``), never from live rows:
    the latest of the preliminary result, a correction and the final announcement, with the
    preliminary one and every correction (reason, when, the units re-entered) beside it."""
    from voting.decisions.chain import step_body

    steps = result_steps(decision)
    if not steps:
        return None
    bodies = [(s, step_body(s)) for s in steps]
    latest, body = bodies[-1]
    preliminary = next((b for s, b in bodies if s.kind == StepKind.PRELIMINARY), body)
    corrections = [
        {"at": s.at, "reason": b.get("reason", ""), "reentered": b.get("reentered", []), "seq": s.seq, "hash": s.content_hash}
        for s, b in bodies
        if s.kind == StepKind.CORRECTED
    ]
    participation = body.get("participation", {})
    channels = [{"code": c.value, "label": c.label, "count": int(participation.get(c.value, 0))} for c in CHANNEL_ORDER]
    return {
        "step": latest,
        "kind": latest.kind,
        "body": body,
        "matters": body.get("matters", []),
        "channels": channels,
        "took_part": sum(c["count"] for c in channels),
        "preliminary_at": preliminary.get("at", ""),
        "objections_close_at": preliminary.get("objections_close_at", ""),
        "corrections": corrections,
    }


def receipt_check(result: dict[str, Any], receipt: str) -> list[dict[str, Any]]:
    """Whether the receipt's hash for each matter (``sha256(receipt + "." + N)``) is among the
    counted receipts the result lists."""
    from voting.ballots import receipt_hash

    receipt = receipt.strip()
    return [
        {
            "position": m["position"],
            "text": m["text"],
            "found": receipt_hash(f"{receipt}.{m['position']}") in set(m.get("receipt_hashes", [])),
        }
        for m in result["matters"]
    ]


def correctable_votes(decision: Decision) -> list[dict[str, Any]]:
    """The counted paper ballots a recount may enter again, in roster order, by unit and code."""
    votes = list(
        DecisionVote.objects.filter(decision=decision, state=VoteState.COUNTED, channel=Channel.PAPER).select_related("code").order_by("pk")
    )
    if not votes:
        return []
    units = decision_units(decision, owners=False)
    labels = {u.unit_key: u.label for u in units}
    order = {u.unit_key: i for i, u in enumerate(units)}
    votes.sort(key=lambda v: order.get(v.unit_key, len(order)))
    return [{"id": v.pk, "unit": labels.get(v.unit_key, v.unit_key), "code": v.code.code if v.code else "", "at": v.at} for v in votes]
