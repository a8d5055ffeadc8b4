"""The progress page, the results page (objections, receipt check), the correction after a
recount and the final announcement (page and A4 PDF). Thin: each reads one selector or calls one
service; the rules are voting/decisions/rules.py, the writes voting/decisions/lifecycle.py."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agora.infra import clock
from agora.infra.errors import NotAllowed
from agora.infra.http import AuthenticatedHttpRequest
from agora.infra.isotime import iso_utc
from agora.infra.refusals import refusal_on
from voting.decisions.lifecycle import Reentry, decision_correct, decision_finalize, objection_lodge
from voting.decisions.progress.access import access_decision
from voting.decisions.progress.forms import CorrectionForm, FinalizeForm, ObjectionForm, ReceiptCheckForm
from voting.decisions.progress.selectors import (
    correctable_votes,
    open_counts,
    progress_context,
    progress_of,
    receipt_check,
    result_of,
)
from voting.decisions.records import proxy_votes
from voting.decisions.rules import DecisionFacts, manages, sees_counts, sees_names
from voting.models import Decision, DecisionState, Objection
from voting.units import unit_of_user


@login_required
@require_GET
def progress_page(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    decision, facts = access_decision(request.user, decision_id)
    progress = progress_of(decision)
    counts = open_counts(decision) if sees_counts(facts, decision) else None
    context = {
        "decision": decision,
        **progress_context(progress, counts),
        "counts_hidden": not sees_counts(facts, decision),
        "has_result": decision.state in {DecisionState.PRELIMINARY, DecisionState.FINAL},
    }
    return render(request, "voting/decisions/progress/progress.html", context)


def _objections(decision: Decision) -> list[Objection]:
    return list(Objection.objects.filter(decision=decision).order_by("at", "pk"))


def _in_window(decision: Decision) -> bool:
    return (
        decision.state == DecisionState.PRELIMINARY
        and decision.objections_close_at is not None
        and clock.now() < decision.objections_close_at
    )


def _results_context(request: AuthenticatedHttpRequest, decision: Decision, facts: DecisionFacts) -> dict[str, Any]:
    result = result_of(decision)
    if result is None:
        raise Http404
    in_window = _in_window(decision)
    can_object = in_window and unit_of_user(decision, request.user.pk)[0] is not None
    return {
        "decision": decision,
        "result": result,
        "proxies": proxy_votes(decision) if sees_names(facts) else [],
        "objections": _objections(decision),
        "in_window": in_window,
        "can_object": can_object,
        "objection_form": ObjectionForm() if can_object else None,
        "receipt_form": ReceiptCheckForm(),
        "manages": manages(facts),
        "can_correct": manages(facts) and in_window,
        "can_finalize": manages(facts)
        and decision.state == DecisionState.PRELIMINARY
        and decision.objections_close_at is not None
        and clock.now() >= decision.objections_close_at,
        "finalize_form": FinalizeForm(),
        "open_objections": sum(1 for o in _objections(decision) if o.answered_at is None),
    }


@login_required
@require_http_methods(["GET", "POST"])
def results_page(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    """GET: the published result. POST: a receipt check (reads only; a POST keeps the receipt
    out of addresses and logs)."""
    decision, facts = access_decision(request.user, decision_id)
    context = _results_context(request, decision, facts)
    if request.method == "POST":
        form = ReceiptCheckForm(request.POST)
        context["receipt_form"] = form
        if form.is_valid():
            context["receipt_checked"] = receipt_check(context["result"], form.cleaned_data["receipt"])
    return render(request, "voting/decisions/progress/results.html", context)


@login_required
@require_POST
def objection_view(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    decision, facts = access_decision(request.user, decision_id)
    form = ObjectionForm(request.POST)
    status = 200
    if form.is_valid():
        with refusal_on(form) as attempt:
            objection_lodge(decision=decision, author=request.user, text=form.cleaned_data["text"])
            messages.success(request, _("Your objection is recorded. The answer will be shown here."))
            return redirect("decisions:progress_results", decision_id=decision.pk)
        status = attempt.status
    context = _results_context(request, decision, facts)
    context["objection_form"] = form
    context["can_object"] = True
    return render(request, "voting/decisions/progress/results.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def correction_view(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    decision, facts = access_decision(request.user, decision_id)
    if not manages(facts):
        raise NotAllowed(_("Only a moderator of this community can do that."))
    votes = correctable_votes(decision)
    form = CorrectionForm(request.POST or None, decision=decision, votes=votes)
    status = 200
    if request.method == "POST" and form.is_valid():
        with refusal_on(form) as attempt:
            decision_correct(
                decision=decision,
                by=request.user,
                reason=form.cleaned_data["reason"],
                reentries=[Reentry(vote_id=form.cleaned_data["vote"], choices=form.choices())],
            )
            messages.success(request, _("The correction is published: the result was computed again from the ballots."))
            return redirect("decisions:progress_results", decision_id=decision.pk)
        status = attempt.status
    context = {"decision": decision, "form": form, "votes": votes, "in_window": _in_window(decision)}
    return render(request, "voting/decisions/progress/correction.html", context, status=status)


@login_required
@require_POST
def finalize_view(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    decision, facts = access_decision(request.user, decision_id)
    if not manages(facts):
        raise NotAllowed(_("Only a moderator of this community can do that."))
    form = FinalizeForm(request.POST)
    status = 200
    if form.is_valid():
        with refusal_on(form) as attempt:
            decision_finalize(decision=decision, by=request.user, counting_officers=form.officer_names())
            messages.success(request, _("The result is final; the announcement is published."))
            return redirect("decisions:progress_announcement", decision_id=decision.pk)
        status = attempt.status
    context = _results_context(request, decision, facts)
    context["finalize_form"] = form
    return render(request, "voting/decisions/progress/results.html", context, status=status)


def _announcement_context(request: AuthenticatedHttpRequest, decision_id: int) -> dict[str, Any]:
    decision, facts = access_decision(request.user, decision_id)
    result = result_of(decision)
    if result is None or result["kind"] != "final":
        raise Http404
    return {
        "decision": decision,
        "result": result,
        "officers": result["body"].get("counting_officers", []),
        "proxies": proxy_votes(decision) if sees_names(facts) else [],
        "url": request.build_absolute_uri(request.path.removesuffix("pdf/")),
        "sealed_at": iso_utc(result["step"].at),
    }


@login_required
@require_GET
def announcement_page(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    return render(request, "voting/decisions/progress/announcement.html", _announcement_context(request, decision_id))


@login_required
@require_GET
def announcement_pdf(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    from agora.infra.pdf import pdf_response, render_pdf

    context = _announcement_context(request, decision_id)
    pdf = render_pdf("voting/decisions/progress/announcement_pdf.html", context, request=request)
    return pdf_response(pdf, f"decision-{decision_id}-announcement.pdf")
