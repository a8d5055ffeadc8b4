"""Pages of paper ballots, for the moderators of the community (the clerks): the start page, the
printed ballots, the issue/return register, entry, review, conflicts and voids. Thin: parse,
call one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST

from agora.infra.errors import NotAllowed, Refused
from agora.infra.http import AuthenticatedHttpRequest
from agora.infra.pdf import streaming_pdf_response
from agora.infra.refusals import refusals_answered
from voting.decisions.paper import selectors, services
from voting.decisions.paper.forms import FilledForm, IssueForm, VoidForm, ballot_rows, choices_of
from voting.decisions.paper.printing import ballots_pdf
from voting.models import Channel, Decision, DecisionVote, VoteState
from voting.units import decision_units


def _url(name: str, decision_id: int) -> str:
    return reverse(f"decisions:{name}", kwargs={"decision_id": decision_id})


def _back_home(request: HttpRequest, decision_id: int, *_args: object, **_kwargs: object) -> str:
    return _url("paper_home", decision_id)


def _building_id(request: HttpRequest, decision: Decision) -> int | None:
    ids = {b.pk for b in selectors.decision_buildings(decision)}
    try:
        chosen = int(request.GET.get("building", ""))
    except ValueError:
        return None
    return chosen if chosen in ids else None


@login_required
def paper_home(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    decision = selectors.access_paper(request.user, decision_id)
    units = decision_units(decision)
    return render(
        request,
        "voting/decisions/paper/home.html",
        {
            "decision": decision,
            "summary": selectors.paper_summary(decision, units=len(units)),
            "buildings": selectors.decision_buildings(decision),
            "prepares": decision.state in selectors.PREPARES_IN,
        },
    )


@login_required
@require_POST
@refusals_answered(back=_back_home)
def paper_prepare(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    decision = selectors.access_paper(request.user, decision_id)
    made = services.paper_prepare(decision=decision, by=request.user)
    if made:
        messages.success(request, _made_sentence(made))
    else:
        messages.success(request, _prepared_sentence())
    return redirect(_url("paper_home", decision.pk))


def _made_sentence(n: int) -> str:
    return ngettext("%(n)d ballot code was made.", "%(n)d ballot codes were made.", n) % {"n": n}


def _prepared_sentence() -> str:
    return gettext("Every voting unit already has its ballot code.")


@login_required
def paper_pdf(request: AuthenticatedHttpRequest, decision_id: int) -> StreamingHttpResponse:
    decision = selectors.access_paper(request.user, decision_id)
    building_id = _building_id(request, decision)
    name = next((b.name for b in selectors.decision_buildings(decision) if b.pk == building_id), "")
    entry_url = request.build_absolute_uri(_url("paper_enter", decision.pk)) + "?code="
    chunks = ballots_pdf(decision, building_id=building_id, building_name=name, entry_url=entry_url)
    filename = f"{decision.title}-{name or 'all'}.pdf"
    return streaming_pdf_response(chunks, filename, attachment=False)


@login_required
def paper_register(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    decision = selectors.access_paper(request.user, decision_id)
    buildings = selectors.decision_buildings(decision)
    building_id = _building_id(request, decision)
    if building_id is None and request.GET.get("building") != "all" and buildings:
        building_id = buildings[0].pk
    form = IssueForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            n = services.paper_issue(
                decision=decision, by=request.user, unit_keys=request.POST.getlist("unit"), issued_to=form.cleaned_data["issued_to"]
            )
        except Refused as refusal:
            if isinstance(refusal, NotAllowed):
                raise
            form.add_error(None, str(refusal))
        else:
            messages.success(request, ngettext("%(n)d ballot marked as handed out.", "%(n)d ballots marked as handed out.", n) % {"n": n})
            query = f"?building={building_id}" if building_id else "?building=all"
            return redirect(_url("paper_register", decision.pk) + query)
    rows = selectors.register_rows(decision, building_id=building_id)
    return render(
        request,
        "voting/decisions/paper/register.html",
        {
            "decision": decision,
            "rows": rows,
            "buildings": buildings,
            "building_id": building_id,
            "form": form,
            "ticked": set(request.POST.getlist("unit")),
            "issued": sum(1 for r in rows if r.code and r.code.issued_at),
            "returned": sum(1 for r in rows if r.code and r.code.returned_at),
            "prepares": decision.state in selectors.PREPARES_IN,
        },
    )


@login_required
def paper_enter(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    """Scan or type a code (a GET: it writes nothing), see the unit, enter the choices, confirm."""
    decision = selectors.access_paper(request.user, decision_id)
    typed = (request.POST.get("code") if request.method == "POST" else request.GET.get("code")) or ""
    filled_form = FilledForm(request.POST or None)
    rows = ballot_rows(decision, request.POST if request.method == "POST" else None)
    stage, error = None, ""
    if typed.strip():
        try:
            stage = selectors.entry_stage(decision, selectors.ballot_code_find(decision, typed), clerk=request.user)
            typed = stage.printed  # a scanned entry URL is shown as the code it holds
        except Refused as refusal:
            if isinstance(refusal, NotAllowed):
                raise
            error = str(refusal)
    if request.method == "POST" and stage is not None and filled_form.is_valid():
        try:
            entered = services.paper_enter(
                decision=decision,
                by=request.user,
                typed_code=typed,
                choices=None if stage.kind == "conflict" else choices_of(rows),
                filled_on=filled_form.filled(),
            )
        except Refused as refusal:
            if isinstance(refusal, NotAllowed):
                raise
            error = str(refusal)
        else:
            (messages.warning if entered.outcome in {"conflict", "mismatch"} else messages.success)(request, entered.sentence)
            return redirect(_url("paper_enter", decision.pk))
    return render(
        request,
        "voting/decisions/paper/enter.html",
        {
            "decision": decision,
            "typed": typed,
            "stage": stage,
            "error": error,
            "rows": rows,
            "filled_form": filled_form,
            "recent": selectors.paper_entries(decision)[:8],
        },
        status=200 if not error or request.method == "GET" else 400,
    )


@login_required
def paper_entries(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    decision = selectors.access_paper(request.user, decision_id)
    return render(
        request,
        "voting/decisions/paper/entries.html",
        {"decision": decision, "entries": selectors.paper_entries(decision), "voids": decision.state == "open"},
    )


def _paper_vote(decision: Decision, vote_id: int) -> DecisionVote:
    return get_object_or_404(DecisionVote, pk=vote_id, decision=decision, channel=Channel.PAPER)


@login_required
def paper_void(request: AuthenticatedHttpRequest, decision_id: int, vote_id: int) -> HttpResponse:
    """Voiding asks on a page of its own, with a reason and a ticked confirmation (no JavaScript needed)."""
    decision = selectors.access_paper(request.user, decision_id)
    vote = _paper_vote(decision, vote_id)
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.paper_void(vote=vote, by=request.user, reason=form.cleaned_data["reason"])
        except Refused as refusal:
            if isinstance(refusal, NotAllowed):
                raise
            form.add_error(None, str(refusal))
        else:
            messages.success(request, gettext("The ballot was voided. The unit may vote again."))
            return redirect(_url("paper_entries", decision.pk))
    entry = next((e for e in selectors.paper_entries(decision) if e.vote.pk == vote.pk), None)
    return render(request, "voting/decisions/paper/void.html", {"decision": decision, "vote": vote, "entry": entry, "form": form})


@login_required
def paper_reviews(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    decision = selectors.access_paper(request.user, decision_id)
    return render(
        request,
        "voting/decisions/paper/reviews.html",
        {"decision": decision, "entries": selectors.paper_entries(decision, state=VoteState.MISMATCH)},
    )


@login_required
def paper_review(request: AuthenticatedHttpRequest, decision_id: int, vote_id: int) -> HttpResponse:
    decision = selectors.access_paper(request.user, decision_id)
    vote = _paper_vote(decision, vote_id)
    first, second = services.review_readings(vote) if vote.state == VoteState.MISMATCH else ({}, {})
    rows = ballot_rows(decision, request.POST if request.method == "POST" else None)
    first_rows, second_rows = ballot_rows(decision, marked=first), ballot_rows(decision, marked=second)
    for row in rows:
        row.differs = first.get(row.matter.pk) != second.get(row.matter.pk)
    error = ""
    if request.method == "POST":
        try:
            entered = services.paper_review(vote=vote, by=request.user, choices=choices_of(rows))
        except Refused as refusal:
            if isinstance(refusal, NotAllowed):
                raise
            error = str(refusal)
        else:
            messages.success(request, entered.sentence)
            return redirect(_url("paper_reviews", decision.pk))
    entry = next((e for e in selectors.paper_entries(decision) if e.vote.pk == vote.pk), None)
    return render(
        request,
        "voting/decisions/paper/review.html",
        {
            "decision": decision,
            "vote": vote,
            "entry": entry,
            "rows": rows,
            "readings": list(zip(rows, first_rows, second_rows, strict=True)),
            "error": error,
            "open": vote.state == VoteState.MISMATCH,
        },
    )


@login_required
def paper_conflicts(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    decision = selectors.access_paper(request.user, decision_id)
    return render(
        request, "voting/decisions/paper/conflicts.html", {"decision": decision, "conflicts": selectors.paper_conflicts(decision)}
    )
