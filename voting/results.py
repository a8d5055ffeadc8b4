"""Turn a closed motion's stored ballots into a resolution, through voting.counting.

No counting rule lives here: this module only gathers the ballots (online and in person),
the eligible base and the settings, calls the pure rule, and writes the result down as
JSON-safe data (exact numbers as strings, plus rounded percentages for display).
Call inside the transaction that closes the motion (it holds the row lock).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

from agora.roster.names import display_name
from voting import selectors
from voting.counting import types as ct
from voting.counting.approval import approval_tally
from voting.counting.approve_reject import approve_reject_tally
from voting.counting.art278 import Art278Unit, art278_tally
from voting.counting.plurality import plurality_tally
from voting.counting.ranked import ranked_tally
from voting.models import InPersonCount, Motion, MotionKind, WeightMode, quorum_text

Row = tuple[list[int], Decimal, Decimal | None, str]  # choice, weight, area, channel


def exact_text(value: Fraction | Decimal | int) -> str:
    f = Fraction(value)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def shown(value: Fraction | Decimal | int | None, places: int = 2) -> str:
    """A number for people: whole numbers as is, others rounded half up for display only."""
    if value is None:
        return ""
    f = Fraction(value)
    if f.denominator == 1:
        return str(f.numerator)
    scaled = (abs(f) * 10**places * 2 + 1) // 2
    sign = "-" if f < 0 else ""
    text = f"{scaled // 10**places}.{scaled % 10**places:0{places}d}".rstrip("0").rstrip(".")
    return sign + text


def percent(value: Fraction | None) -> str:
    return shown(value * 100, 2) if value is not None else ""


def _rows(motion: Motion) -> Iterator[Row]:
    for choice, weight, area in motion.ballots.values_list("choice", "weight", "area"):
        yield choice, weight, area, "online"
    for choice, count, weight, area in InPersonCount.objects.filter(motion=motion).values_list("choice", "count", "weight", "area"):
        for _ in range(count):
            yield choice, weight, area, "in_person"


def _weight(motion: Motion, weight: Decimal) -> int | Decimal:
    return weight if motion.weight_mode == WeightMode.AREA else 1


def resolution_compute(*, motion: Motion) -> tuple[str, dict[str, Any], list[str]]:
    """Outcome code, result data, and the sorted receipt hashes of the counted online ballots."""
    options = list(motion.options.all())
    rows = list(_rows(motion))
    notes: list[str] = []
    if motion.weight_mode == WeightMode.AREA and motion.kind != MotionKind.ART278 and any(r[1] <= 0 for r in rows):
        # Refused when entered (voting.services): only rows from before that rule. Never let
        # them break a close: a unit without area has no weight, so it is left out, and said.
        rows = [r for r in rows if r[1] > 0]
        notes.append("no_area_ignored")
    base = selectors.eligible_base(motion)
    quorum = motion.quorum

    per_option: dict[int, dict[str, Fraction]] = {o.pk: defaultdict(Fraction) for o in options}
    ranked = motion.kind == MotionKind.RANKED
    for choice, weight, _area, channel in rows:
        for option_id in choice[:1] if ranked else choice:
            per_option[option_id][channel] += 1
            per_option[option_id][channel + "_weight"] += Fraction(_weight(motion, weight))
    online = sum(1 for r in rows if r[3] == "online")
    cast_weight = sum((Fraction(_weight(motion, r[1])) for r in rows), Fraction(0))
    eligible = Fraction(base.weight)
    if motion.kind != MotionKind.ART278 and cast_weight > eligible:
        # The roster changed, or the room counted more people than are registered:
        # never crash a close; measure against what was cast and say so.
        eligible = cast_weight
        notes.append("eligible_raised")

    data: dict[str, Any] = {
        "kind": motion.kind,
        "text": motion.text,
        "rule": {
            "base": motion.base,
            "threshold": motion.threshold,
            "quorum": exact_text(quorum) if quorum is not None else "",
            "quorum_text": motion.quorum_text,
            "major_matter": motion.major_matter,
            "eligibility": motion.eligibility,
            "ballot_unit": motion.ballot_unit,
            "weight_mode": motion.weight_mode,
            "secret": motion.secret,
        },
        "eligible": {"headcount": base.headcount, "weight": shown(eligible), "weight_exact": exact_text(eligible)},
        "notes": notes,
        "winner": None,
        "tied": [],
        "rounds": [],
        "art278": None,
    }
    if motion.kind in {MotionKind.APPROVE_REJECT}:
        code = {o.pk: o.code for o in options}
        ar = approve_reject_tally(
            ballots=[ct.ApproveRejectBallot(ct.Choice(code[c[0]]), _weight(motion, w)) for c, w, _a, _ch in rows],
            base=ct.Base(motion.base),
            threshold=ct.Threshold(motion.threshold),
            eligible=eligible,
            quorum=quorum,
        )
        outcome, reason, participation = ar.outcome, ar.reason, ar.participation
        data["approve_reject"] = {
            "base_total": shown(ar.base_total),
            "base_total_exact": exact_text(ar.base_total),
            "yes_share": percent(ar.yes_share),
            "yes_share_exact": exact_text(ar.yes_share) if ar.yes_share is not None else "",
            "threshold_met": ar.threshold_met,
        }
        totals = {by_id_code: getattr(ar, by_id_code) for by_id_code in ("yes", "no", "abstain")}
        option_totals = {o.pk: totals[o.code] for o in options}
    elif motion.kind == MotionKind.ART278:
        outcome, reason, participation, option_totals = _art278(motion, rows, base, data)
    else:
        ids = [str(o.pk) for o in options]
        cr: ct.ChoiceResult | ct.RankedResult
        if motion.kind == MotionKind.SINGLE:
            cr = plurality_tally(
                options=ids,
                ballots=[ct.PluralityBallot(str(c[0]), _weight(motion, w)) for c, w, _a, _ch in rows],
                eligible=eligible,
                quorum=quorum,
            )
        elif motion.kind == MotionKind.APPROVAL:
            cr = approval_tally(
                options=ids,
                ballots=[ct.ApprovalBallot(frozenset(map(str, c)), _weight(motion, w)) for c, w, _a, _ch in rows],
                eligible=eligible,
                quorum=quorum,
            )
        else:
            cr = ranked_tally(
                options=ids,
                ballots=[ct.RankedBallot(tuple(map(str, c)), _weight(motion, w)) for c, w, _a, _ch in rows],
                eligible=eligible,
                quorum=quorum,
            )
            data["rounds"] = _rounds_data(cr)
            data["possible_winners"] = [int(o) for o in cr.possible_winners]
        outcome, reason, participation = cr.outcome, cr.reason, cr.participation
        data["winner"] = int(cr.winner) if cr.winner else None
        if cr.outcome == ct.Outcome.TIE:
            data["tied"] = [int(o) for o in (cr.tied if isinstance(cr, ct.RankedResult) else cr.leaders)]
        if isinstance(cr, ct.RankedResult):
            option_totals = {o.pk: (cr.rounds[0].votes_for(str(o.pk)) if cr.rounds else Fraction(0)) for o in options}
        else:
            option_totals = {o.pk: cr.votes_for(str(o.pk)) for o in options}

    data["options"] = [
        {
            "id": o.pk,
            "code": o.code,
            "label": o.label,
            "online": int(per_option[o.pk]["online"]),
            "in_person": int(per_option[o.pk]["in_person"]),
            "total": int(per_option[o.pk]["online"] + per_option[o.pk]["in_person"]),
            "weight": shown(option_totals[o.pk]),
            "weight_exact": exact_text(option_totals[o.pk]),
        }
        for o in options
    ]
    data["participation"] = {
        "online": online,
        "in_person": len(rows) - online,
        "total": len(rows),
        "weight": shown(participation.weight),
        "rate": percent(participation.rate),
        "quorum": percent(participation.quorum),
        "quorum_required": shown(participation.quorum_required),
        # Exact figures: where a boundary decides, the page shows these, not the rounding.
        "weight_exact": exact_text(participation.weight),
        "eligible_exact": exact_text(participation.eligible) if participation.eligible is not None else "",
        "rate_exact": exact_text(participation.rate) if participation.rate is not None else "",
        "quorum_text": quorum_text(participation.quorum),
        "quorum_required_exact": exact_text(participation.quorum_required) if participation.quorum_required is not None else "",
        "quorum_reached": participation.quorum_reached,
    }
    data["outcome"] = outcome.value
    data["reason"] = reason.value
    data["opened_at"] = motion.opened_at.isoformat() if motion.opened_at else None
    data["closed_at"] = motion.closed_at.isoformat() if motion.closed_at else None
    data["opened_by"] = display_name(motion.opened_by)
    data["closed_by"] = display_name(motion.closed_by)
    if not motion.secret:
        data["voters"] = [
            {"name": display_name(p.voter), "choice": ballot.choice}
            for p in motion.participations.filter(ballot__isnull=False).select_related("voter", "ballot").order_by("voter__username")
            if (ballot := p.ballot) is not None
        ]
    hashes = sorted(motion.ballots.values_list("receipt_hash", flat=True))
    data["receipts"] = len(hashes)
    return outcome.value, data, hashes


def ranked_redraw(*, motion: Motion, seed: str) -> tuple[int | None, list[dict[str, Any]]]:
    """A closed ranked motion counted again with a recorded public draw (the ballots are the
    closed motion's, unchanged): the winner and every round."""
    options = [str(o.pk) for o in motion.options.all()]
    rows = [r for r in _rows(motion) if motion.weight_mode != WeightMode.AREA or r[1] > 0]
    result = ranked_tally(
        options=options, ballots=[ct.RankedBallot(tuple(map(str, c)), _weight(motion, w)) for c, w, _a, _ch in rows], draw_seed=seed
    )
    return (int(result.winner) if result.winner else None), _rounds_data(result)


def _rounds_data(result: ct.RankedResult) -> list[dict[str, Any]]:
    return [
        {
            "number": r.number,
            "counts": [{"id": int(c.option), "votes": shown(c.votes)} for c in r.counts],
            "exhausted": shown(r.exhausted),
            "eliminated": [int(o) for o in r.eliminated],
            "tied_for_last": [int(o) for o in r.tied_for_last],
            "undecided": [int(o) for o in r.undecided],
            "tie_break": r.tie_break.value if r.tie_break else "",
            "tie_break_round": r.tie_break_round,
        }
        for r in result.rounds
    ]


def _art278(
    motion: Motion, rows: list[Row], base: selectors.EligibleBase, data: dict[str, Any]
) -> tuple[Any, Any, Any, dict[int, Fraction]]:
    """Ballots carry the owner's area but (secret ballots) not the owner: count each ballot as
    its own owner, beside the owners who did not take part. The totals are the same."""
    code = {o.pk: o.code for o in motion.options.all()}
    participated = {key.removeprefix("o:") for key in motion.participations.values_list("unit_key", flat=True)}
    units = [Art278Unit(f"owner:{key}", f"owner:{key}", area) for key, area in base.owner_areas.items() if key not in participated]
    ballots: dict[str, ct.Choice] = {}
    for i, (choice, _weight, area, _channel) in enumerate(rows):
        key = f"ballot:{i}"
        units.append(Art278Unit(key, key, area or Decimal("0")))
        ballots[key] = ct.Choice(code[choice[0]])
    if not units:
        # No owner with a floor area on record and nobody voted: nothing can be decided.
        units.append(Art278Unit("none", "none", Decimal("0.01")))
        data["notes"].append("no_owner_areas")
    result = art278_tally(units=units, ballots=ballots, is_major=motion.major_matter)

    def condition(c: Any) -> dict[str, Any]:
        return {
            "value": str(c.value),
            "base": str(c.base),
            "share": percent(c.share),
            "share_exact": exact_text(c.share) if c.share is not None else "",
            "met": c.met,
            "threshold": c.threshold.value,
            "required": exact_text(c.threshold.fraction),
            "inclusive": c.threshold.inclusive,
        }

    data["eligible"]["headcount"] = result.eligible.owners
    data["eligible"]["area"] = str(result.eligible.area)
    data["art278"] = {
        "units": result.units,
        "eligible": {"owners": result.eligible.owners, "area": str(result.eligible.area)},
        "participating": {"owners": result.participating.owners, "area": str(result.participating.area)},
        "yes": {"owners": result.yes.owners, "area": str(result.yes.area)},
        "no": {"owners": result.no.owners, "area": str(result.no.area)},
        "abstain": {"owners": result.abstain.owners, "area": str(result.abstain.area)},
        "quorum_headcount": condition(result.quorum_headcount),
        "quorum_area": condition(result.quorum_area),
        "pass_headcount": condition(result.pass_headcount),
        "pass_area": condition(result.pass_area),
        "is_major": result.is_major,
    }
    # Which measures fell short, in the order they decide: quorum first, then passing.
    data["art278"]["short"] = [
        name
        for name in ("quorum_headcount", "quorum_area", "pass_headcount", "pass_area")
        if not data["art278"][name]["met"] and (name.startswith("quorum") or result.quorum_reached)
    ]
    participation = ct.participation_of(
        ballots=result.participating.owners,
        weight=Fraction(result.participating.owners),
        eligible=result.eligible.owners,
        quorum=Fraction(2, 3),
    )
    participation = ct.Participation(**{**participation.__dict__, "quorum_reached": result.quorum_reached})
    totals = {"yes": result.yes.owners, "no": result.no.owners, "abstain": result.abstain.owners}
    return result.outcome, result.reason, participation, {o.pk: Fraction(totals[o.code]) for o in motion.options.all()}
