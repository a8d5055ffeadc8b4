"""Door to door (扫楼) and proxy pages under /decisions/<id>/door/. Thin: read the person's facts,
call one selector or service, render.

What the person may not see (a decision of another community, a draft, a proxy not theirs) is a
404; what they see but may not do (a resident on the grid workers' pages, a unit outside their
grids) is the 403 page with its sentence.
"""

from __future__ import annotations

import io
import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from agora.infra import clock
from agora.infra.csv_safe import safe_writer
from agora.infra.errors import NotAllowed, Refused
from agora.infra.http import AuthenticatedHttpRequest
from agora.infra.refusals import refusal_on
from agora.roster.names import display_name
from voting.decisions.ballots import clean_choices, matters_of, period_refusal, proxies_held, when_text
from voting.decisions.door import selectors, services
from voting.decisions.door.forms import MatterRow, ProxyForm, RevokeForm, ballot_rows, choices_of, hidden_fields, reason_choices
from voting.decisions.rules import DecisionFacts, canvasses, decision_facts, manages, reads, sees_canvass_list
from voting.models import Decision, Proxy
from voting.units import DecisionUnit, area_refusal, decision_unit, decision_units, needs_area


def _decision(request: AuthenticatedHttpRequest, decision_id: int) -> tuple[Decision, DecisionFacts]:
    decision = Decision.objects.filter(pk=decision_id).select_related("community").first()
    if decision is None:
        raise Http404
    f = decision_facts(user=request.user, decision=decision)
    if not reads(f, decision):
        raise Http404
    return decision, f


def _canvassing(f: DecisionFacts) -> None:
    if not sees_canvass_list(f):
        raise NotAllowed(_("Door-to-door pages are for the community's grid workers and moderators."))


def _managing(f: DecisionFacts) -> None:
    if not manages(f):
        raise NotAllowed(_("Only the community's moderators can record and revoke proxies."))


def _start_url(decision: Decision) -> str:
    return reverse("decisions:door_start", kwargs={"decision_id": decision.pk})


def _period_sentence(decision: Decision) -> str | None:
    refusal = period_refusal(decision, at=clock.now())
    return None if refusal is None else str(refusal)


# A roster larger than this is shown one building at a time (a phone gets ~80 KB, not megabytes).
UNITS_ON_ONE_PAGE = 300


def _building_of(request: AuthenticatedHttpRequest) -> int | None:
    value = request.GET.get("building", "")
    return int(value) if value.isdigit() else None


def _summaries(decision: Decision, f: DecisionFacts) -> list[selectors.BuildingSummary] | None:
    """The buildings to pick from, when their units are too many for one page (None: show them).
    A grid worker's units are read with the page (a grid is a few hundred units); a moderator's
    roster is counted first, without owners, as it may hold ten thousand."""
    if not manages(f):
        return None
    summaries = selectors.building_summaries(decision, f)
    return summaries if sum(s.total for s in summaries) > UNITS_ON_ONE_PAGE else None


def _picked(
    buildings: list[selectors.BuildingRows], summaries: list[selectors.BuildingSummary] | None, *, narrowed: bool
) -> tuple[list[selectors.BuildingRows], list[selectors.BuildingSummary] | None]:
    """A grid worker with more units than a page holds picks a building too (their rows counted)."""
    if summaries is None and not narrowed and sum(len(b.units) for b in buildings) > UNITS_ON_ONE_PAGE:
        return [], [selectors.BuildingSummary(b.building_id, b.name, b.voted, len(b.units)) for b in buildings]
    return buildings, summaries


@login_required
def door_start(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    """The start page: a grid worker's buildings and units to visit (a moderator's: all), and
    the proxies the person holds."""
    decision, f = _decision(request, decision_id)
    held = proxies_held(decision=decision, user=request.user)
    if not sees_canvass_list(f) and not held:
        _canvassing(f)
    room = request.GET.get("room", "")[:40]
    building = _building_of(request)
    summaries = _summaries(decision, f) if sees_canvass_list(f) and not room and building is None else None
    buildings = selectors.door_buildings(decision, f, room=room, building_id=building) if sees_canvass_list(f) and summaries is None else []
    buildings, summaries = _picked(buildings, summaries, narrowed=bool(room) or building is not None)
    context = {
        "decision": decision,
        "held": held,
        "canvasser": sees_canvass_list(f),
        "moderator": manages(f),
        "buildings": buildings,
        "summaries": summaries,
        "building": building,
        "room": room,
        "units_shown": sum(len(b.units) for b in buildings),
        "closed_sentence": _period_sentence(decision),
    }
    return render(request, "voting/decisions/door/start.html", context)


def _door_unit(decision: Decision, f: DecisionFacts, unit_key: str) -> DecisionUnit:
    unit = decision_unit(decision, unit_key)
    if unit is None:
        raise Http404
    if not canvasses(f, building_ids=unit.building_ids):
        raise NotAllowed(_("This unit is not in the buildings of your grids, so you cannot record its ballot."))
    return unit


def _ballot_context(decision: Decision, rows: list[MatterRow], *, unit: DecisionUnit, **extra: Any) -> dict[str, Any]:
    """What a ballot page shows; ``closed_sentence`` why no ballot is taken now (the period, or a
    unit without area where a matter counts it: said before anything is marked)."""
    closed = _period_sentence(decision)
    if closed is None and not unit.has_area and needs_area(decision):
        closed = str(area_refusal(unit))
    return {"decision": decision, "rows": rows, "unit": unit, "closed_sentence": closed, **extra}


@login_required
def door_ballot(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    """Record a unit's ballot with the owner present: the form, the check, the receipt."""
    decision, f = _decision(request, decision_id)
    _canvassing(f)
    data = request.POST if request.method == "POST" else None
    posted: QueryDict = data if data is not None else QueryDict()
    unit_key = (data if data is not None else request.GET).get("unit", "")
    unit = _door_unit(decision, f, unit_key)
    rows = ballot_rows(decision, data)
    votes = selectors.votes_by_unit(decision, [unit.unit_key])
    context = _ballot_context(
        decision,
        rows,
        unit=unit,
        vote=votes.get(unit.unit_key),
        moderator=manages(f),
        action=reverse("decisions:door_ballot", kwargs={"decision_id": decision.pk}),
        reasons=reason_choices(),
        reason=posted.get("reason", ""),
        reason_text=posted.get("reason_text", ""),
        idempotency_key=posted.get("idempotency_key") or secrets.token_urlsafe(18),
        error=None,
    )
    if data is None or data.get("back") == "1":
        return render(request, "voting/decisions/door/ballot.html", context)
    try:
        choices = choices_of(rows)
        clean_choices(decision, matters_of(decision), choices)
        services.door_reason_text(data.get("reason", ""), data.get("reason_text", ""))
        if data.get("confirmed") != "1":
            context["hidden"] = hidden_fields(data)
            return render(request, "voting/decisions/door/ballot_confirm.html", context)
        recorded = services.door_vote_record(
            decision=decision,
            by=request.user,
            unit_key=unit.unit_key,
            choices=choices,
            reason=data.get("reason", ""),
            reason_text=data.get("reason_text", ""),
            idempotency_key=data.get("idempotency_key", ""),
        )
    except NotAllowed:
        raise
    except Refused as refusal:
        context["error"] = str(refusal)
        return render(request, "voting/decisions/door/ballot.html", context)
    return render(
        request,
        "voting/decisions/door/receipt.html",
        {"decision": decision, "unit": unit, "recorded": recorded, "rows": rows, "door": True, "when": when_text(recorded.vote.at)},
    )


@login_required
def canvass_list(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    """The 扫楼 list: per building, the units that have not voted, printable."""
    decision, f = _decision(request, decision_id)
    _canvassing(f)
    building = _building_of(request)
    summaries = _summaries(decision, f) if building is None else None
    buildings = selectors.canvass_buildings(decision, f, building_id=building) if summaries is None else []
    buildings, summaries = _picked(buildings, summaries, narrowed=building is not None)
    context = {
        "decision": decision,
        "buildings": buildings,
        "summaries": summaries,
        "building": building,
        "waiting": sum(s.total - s.voted for s in summaries) if summaries is not None else sum(len(b.units) for b in buildings),
        "printed_at": when_text(clock.now()),
        "moderator": manages(f),
    }
    return render(request, "voting/decisions/door/canvass_list.html", context)


@login_required
def canvass_csv(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    decision, f = _decision(request, decision_id)
    _canvassing(f)
    out = io.StringIO()
    out.write("\ufeff")  # spreadsheets in Chinese open UTF-8 with its mark
    safe_writer(out).writerows(selectors.canvass_csv_rows(selectors.canvass_buildings(decision, f, building_id=_building_of(request))))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime(clock.now()).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="canvass-{decision.pk}-{stamp}.csv"'
    return response


# Proxies.


def _proxy_units(decision: Decision, unit_key: str = "") -> list[tuple[str, str]]:
    """The units a proxy may be recorded for now: not voted, no live proxy (``unit_key``: that
    one only, as the door pages link it, so a large roster is not one long list)."""
    picked = decision_unit(decision, unit_key) if unit_key else None
    units = [picked] if picked is not None else decision_units(decision)
    keys = [u.unit_key for u in units] if picked is not None else None
    votes = selectors.votes_by_unit(decision, keys)
    held = set(Proxy.objects.filter(decision=decision, revoked_at__isnull=True).values_list("principal_unit_key", flat=True))
    return [
        (u.unit_key, f"{u.label} · {u.owner_name}" if u.owner_name else u.label)
        for u in units
        if u.unit_key not in votes and u.unit_key not in held
    ]


@login_required
def proxies(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    """The decision's proxies, and the form to record one (moderators)."""
    decision, f = _decision(request, decision_id)
    _managing(f)
    now = timezone.localtime(clock.now())
    initial = {
        "unit": request.GET.get("unit", ""),
        "valid_from": now.replace(second=0, microsecond=0),
        "valid_until": timezone.localtime(decision.closes_at),
    }
    form = ProxyForm(
        request.POST or None, request.FILES or None, units=_proxy_units(decision, request.GET.get("unit", "")), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        with refusal_on(form):
            data = form.cleaned_data
            proxy = services.proxy_record(
                decision=decision,
                by=request.user,
                principal_unit_key=data["unit"],
                holder=services.holder_find(data["holder"]),
                terms=services.ProxyTerms(data["kind"], data["scope"], data["valid_from"], data["valid_until"]),
                document=data["document"],
            )
            messages.success(
                request, _("The proxy was recorded: %(name)s may now vote for this unit.") % {"name": display_name(proxy.holder)}
            )
            return redirect(reverse("decisions:door_proxies", kwargs={"decision_id": decision.pk}))
    if request.method == "POST" and form.errors and request.FILES:
        form.add_error("document", _("Please choose the file again: a browser cannot keep it when the form is shown again."))
    context = {"decision": decision, "form": form, "rows": selectors.proxies_of(decision, f), "closed_sentence": _period_sentence(decision)}
    return render(request, "voting/decisions/door/proxies.html", context)


def _proxy(decision: Decision, proxy_id: int) -> Proxy:
    proxy = Proxy.objects.filter(decision=decision, pk=proxy_id).select_related("holder", "decision").first()
    if proxy is None:
        raise Http404
    return proxy


@login_required
def proxy_revoke(request: AuthenticatedHttpRequest, decision_id: int, proxy_id: int) -> HttpResponse:
    """Revoke a proxy: a confirmation page with the reason, then the revocation."""
    decision, f = _decision(request, decision_id)
    _managing(f)
    proxy = _proxy(decision, proxy_id)
    row = next((r for r in selectors.proxies_of(decision, f) if r.proxy.pk == proxy.pk), None)
    form = RevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal_on(form):
            services.proxy_revoke(proxy=proxy, by=request.user, reason=form.cleaned_data["reason"])
            messages.success(request, _("The proxy was revoked."))
            return redirect(reverse("decisions:door_proxies", kwargs={"decision_id": decision.pk}))
    return render(request, "voting/decisions/door/proxy_revoke.html", {"decision": decision, "row": row, "form": form})


DOCUMENT_TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".pdf": "application/pdf"}


@login_required
def proxy_document(request: AuthenticatedHttpRequest, decision_id: int, proxy_id: int) -> HttpResponse:
    """The signed proxy, for the community's moderators only (anyone else: not found)."""
    decision, f = _decision(request, decision_id)
    if not manages(f):
        raise Http404
    proxy = _proxy(decision, proxy_id)
    if not proxy.document:
        raise Http404
    name = proxy.document.name or ""
    content_type = DOCUMENT_TYPES.get(name[name.rfind(".") :].lower(), "application/octet-stream")
    with proxy.document.open("rb") as document:
        response = HttpResponse(document.read(), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="proxy-{proxy.pk}{name[name.rfind(".") :]}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return response


@login_required
def proxy_ballot(request: AuthenticatedHttpRequest, decision_id: int, proxy_id: int) -> HttpResponse:
    """The holder's ballot for the principal's unit: the form, the check, the receipt."""
    decision, _f = _decision(request, decision_id)
    proxy = selectors.proxy_of_holder(decision, request.user, proxy_id)
    if proxy is None:
        raise Http404
    unit = decision_unit(decision, proxy.principal_unit_key)
    if unit is None:
        raise Http404
    data = request.POST if request.method == "POST" else None
    posted: QueryDict = data if data is not None else QueryDict()
    rows = ballot_rows(decision, data)
    context = _ballot_context(
        decision,
        rows,
        unit=unit,
        proxy=proxy,
        vote=selectors.votes_by_unit(decision, [unit.unit_key]).get(unit.unit_key),
        action=reverse("decisions:door_proxy_ballot", kwargs={"decision_id": decision.pk, "proxy_id": proxy.pk}),
        idempotency_key=posted.get("idempotency_key") or secrets.token_urlsafe(18),
        error=None if proxy.revoked_at is None else _("This proxy was revoked, so it cannot be used to vote."),
    )
    if data is None or data.get("back") == "1":
        return render(request, "voting/decisions/door/proxy_ballot.html", context)
    try:
        choices = choices_of(rows)
        clean_choices(decision, matters_of(decision), choices)
        if data.get("confirmed") != "1":
            context["hidden"] = hidden_fields(data)
            return render(request, "voting/decisions/door/ballot_confirm.html", context)
        recorded = services.proxy_vote_record(
            decision=decision, holder=request.user, proxy=proxy, choices=choices, idempotency_key=data.get("idempotency_key", "")
        )
    except NotAllowed:
        raise
    except Refused as refusal:
        context["error"] = str(refusal)
        return render(request, "voting/decisions/door/proxy_ballot.html", context)
    return render(
        request,
        "voting/decisions/door/receipt.html",
        {"decision": decision, "unit": unit, "recorded": recorded, "rows": rows, "door": False, "when": when_text(recorded.vote.at)},
    )
