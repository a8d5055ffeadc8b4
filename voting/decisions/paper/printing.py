"""The personalised paper ballots (表决票) of a decision as one streamed, print-ready PDF.

The page is laid out once (``templates/voting/decisions/paper/ballot_pdf.html``: the decision's
title, period, every matter with its boxes, the signature line and how to return it) and stamped
per voting unit with its owner, room, area, 投票权数, code and QR code (agora/infra/pdf.py). The
QR code holds the entry address with the code (``…/paper/enter/?code=…``): a phone's camera opens
the entry page, a USB scanner types it into the code field. Memory: the roster's units and their
codes, read before the first page (a few hundred bytes a unit: about 3 MiB for 10,000); the PDF
itself is written as it goes.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from agora.infra.pdf import PdfTemplate, Qr, stream_pdf
from voting.choices import option_label
from voting.decisions.ballots import matters_of, options_of
from voting.decisions.paper.codes import code_printed
from voting.models import BallotCode, Decision, MotionKind, UnitMode
from voting.units import DecisionUnit, decision_units, needs_area

TEMPLATE = "voting/decisions/paper/ballot_pdf.html"


def _area_text(area: Decimal) -> str:
    return f"{formats.number_format(area, 2)} m²"


def ballot_context(decision: Decision, *, building_name: str = "") -> dict[str, Any]:
    matters = []
    for matter in matters_of(decision):
        options = [{"label": option_label({"code": o.code, "label": o.label})} for o in options_of(matter)]
        matters.append(
            {
                "position": matter.position,
                "text": matter.text,
                "kind": matter.kind,
                "coded": all(o.code in {"yes", "no", "abstain"} for o in options_of(matter)) and matter.kind != MotionKind.APPROVAL,
                "options": options,
                "max_choices": matter.max_choices,
            }
        )
    tz = timezone.get_current_timezone()
    return {
        "decision": decision,
        "community": decision.community.name,
        "building_name": building_name,
        "opens": formats.date_format(timezone.localtime(decision.opens_at, tz), "DATETIME_FORMAT"),
        "closes": formats.date_format(timezone.localtime(decision.closes_at, tz), "DATETIME_FORMAT"),
        "matters": matters,
        "per_household": decision.unit_mode == UnitMode.HOUSEHOLD,
        "needs_area": needs_area(decision),
        "secret": decision.secret,
    }


def ballot_fill(decision: Decision, unit: DecisionUnit, code: str, entry_url: str) -> dict[str, str | Qr]:
    area = _area_text(unit.area) if unit.has_area else _("no area on record")
    weight = _("1 owner · %(area)s") % {"area": _area_text(unit.area)} if unit.has_area else _("1 owner")
    if decision.unit_mode == UnitMode.HOUSEHOLD:
        weight = _("1 household · %(area)s") % {"area": _area_text(unit.area)} if unit.has_area else _("1 household")
    return {
        "owner": unit.owner_name,
        "room": unit.label,
        "area": area,
        "weight": weight,
        "code": code_printed(code),
        "qr": Qr(entry_url + code),
    }


def ballot_fills(decision: Decision, *, building_id: int | None, entry_url: str) -> Iterator[dict[str, str | Qr]]:
    """One fill per unit of the decision (of ``building_id``) that has a code, in roster order."""
    codes = dict(BallotCode.objects.filter(decision=decision).values_list("unit_key", "code"))
    for unit in decision_units(decision, building_id=building_id):
        code = codes.get(unit.unit_key)
        if code is not None:
            yield ballot_fill(decision, unit, code, entry_url)


def ballots_pdf(decision: Decision, *, building_id: int | None, building_name: str = "", entry_url: str) -> Iterator[bytes]:
    """The ballots as PDF chunks (``entry_url``: the absolute entry address ending in ``code=``).

    The roster is read here, in the caller's thread and transaction; only the stamping runs as the
    chunks are taken (under ASGI in a thread of its own, ``agora.infra.pdf.in_thread``), with no
    database access there."""
    template = PdfTemplate.from_template(TEMPLATE, ballot_context(decision, building_name=building_name))
    fills = list(ballot_fills(decision, building_id=building_id, entry_url=entry_url))
    return stream_pdf(template, iter(fills), title=decision.title)
