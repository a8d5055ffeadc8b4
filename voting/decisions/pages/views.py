"""The pages of an owners' decision. Thin: read who asks (rules), call one lifecycle step or the
ballot service, render.

Who sees what: members read an announced decision (moderators also the draft); anyone else gets
404. A moderator's step by someone who reads but does not manage is 403 with the sentence. The
owner's ballot says why it is not taken (not an owner, outside the buildings, no area on record,
already voted, before the start, after the end) on the ballot page itself. Notices are public
(docs/decisions-over-days.md, "Who reads a notice").
"""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agora.infra import clock
from agora.infra.errors import NotAllowed, Refused
from agora.infra.http import AuthenticatedHttpRequest
from agora.infra.refusals import refusal_on
from agora.roster.models import Community
from agora.roster.roles import is_member, is_moderator
from voting.decisions import lifecycle
from voting.decisions.ballots import clean_choices, period_refusal
from voting.decisions.chain import chain_verify
from voting.decisions.pages import selectors
from voting.decisions.pages.forms import AnnounceForm, AnswerForm, DecisionForm, ExtendForm, FinalizeForm, ObjectionForm, ballot_choices
from voting.decisions.pages.selectors import when_text
from voting.decisions.pages.services import owner_ballot_cast, owner_unit, room_of
from voting.decisions.rules import DecisionFacts, decision_facts, manages, reads
from voting.models import Decision, DecisionState, DecisionStep, Objection, StepKind

NOTICE_KINDS = {StepKind.ANNOUNCED, StepKind.EXTENDED, StepKind.PRELIMINARY, StepKind.CORRECTED, StepKind.FINAL}


def _readable(request: HttpRequest, decision_id: int) -> tuple[Decision, DecisionFacts]:
    decision = get_object_or_404(Decision.objects.select_related("community"), pk=decision_id)
    facts = decision_facts(user=request.user, decision=decision)
    if not reads(facts, decision):
        raise Http404
    return decision, facts


def _managed(request: HttpRequest, decision_id: int) -> Decision:
    decision, facts = _readable(request, decision_id)
    if not manages(facts):
        raise NotAllowed(_("Only a moderator of this community can do that."))
    return decision


def _detail(decision: Decision) -> str:
    return reverse("decisions:pages_detail", args=[decision.pk])


# --- lists ---------------------------------------------------------------------------------


@login_required
def decision_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    communities = [
        {
            "community": c,
            "moderator": is_moderator(user=request.user, community=c),
            "decisions": selectors.community_decisions(community=c, moderator=is_moderator(user=request.user, community=c)),
        }
        for c in selectors.user_communities(user=request.user)
    ]
    return render(request, "voting/decisions/pages/index.html", {"communities": communities})


@login_required
def decision_list(request: AuthenticatedHttpRequest, community_slug: str) -> HttpResponse:
    community = get_object_or_404(Community, slug=community_slug)
    if not is_member(user=request.user, community=community):
        raise Http404
    moderator = is_moderator(user=request.user, community=community)
    context = {
        "communities": [
            {
                "community": community,
                "moderator": moderator,
                "decisions": selectors.community_decisions(community=community, moderator=moderator),
            }
        ],
        "single": True,
    }
    return render(request, "voting/decisions/pages/index.html", context)


# --- the moderator's draft -------------------------------------------------------------------


def _default_period() -> dict[str, datetime]:
    """Voting opens at 09:00 after the default 15-day notice and closes at 23:59 ten days later
    (as Dongguan's notices set it)."""
    today = timezone.localdate(clock.now())
    tz = timezone.get_current_timezone()
    opens = datetime.combine(today + timedelta(days=16), time(9, 0), tzinfo=tz)
    closes = datetime.combine(today + timedelta(days=25), time(23, 59), tzinfo=tz)
    return {"opens_at": opens, "closes_at": closes}


def _typed(request: HttpRequest, community: Community, rows: int) -> dict[str, Any]:
    """What was typed, as the initial values of a form shown again without errors ("add a matter")."""
    initial: dict[str, Any] = {}
    for name, field in DecisionForm(community=community, rows=rows).fields.items():
        if name in {"buildings", "sessions"}:
            initial[name] = request.POST.getlist(name)
        elif isinstance(field, forms.BooleanField):
            initial[name] = name in request.POST
        elif name in request.POST:
            initial[name] = request.POST.get(name)
    return initial


@login_required
def decision_create(request: AuthenticatedHttpRequest, community_slug: str) -> HttpResponse:
    community = get_object_or_404(Community, slug=community_slug)
    if not is_member(user=request.user, community=community):
        raise Http404
    if not is_moderator(user=request.user, community=community):
        raise NotAllowed(_("Only a moderator of this community can do that."))
    rows = request.POST.get("rows", "")
    count = int(rows) if rows.isdigit() else 3
    if request.method == "POST" and "add_matter" in request.POST:
        form = DecisionForm(initial=_typed(request, community, count), community=community, rows=count + 1)
    elif request.method == "POST":
        form = DecisionForm(request.POST, community=community, rows=count)
        if form.is_valid():
            with refusal_on(form):
                decision = lifecycle.decision_create(community=community, by=request.user, **form.create_kwargs())
                messages.success(request, _("The draft is saved. Owners see it once you announce it."))
                return redirect(_detail(decision))
    else:
        form = DecisionForm(initial=_default_period(), community=community)
    return render(request, "voting/decisions/pages/form.html", {"form": form, "community": community})


@login_required
def decision_discard(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    decision = _managed(request, decision_id)
    if request.method == "POST" and request.POST.get("confirmed") == "1":
        try:
            lifecycle.decision_discard(decision=decision, by=request.user)
        except NotAllowed:
            raise
        except Refused as refusal:
            messages.error(request, str(refusal))
            return redirect(_detail(decision))
        messages.success(request, _("The draft “%(title)s” was discarded.") % {"title": decision.title})
        return redirect("decisions:pages_list", decision.community.slug)
    return render(request, "voting/decisions/pages/discard.html", {"decision": decision})


# --- the steps -------------------------------------------------------------------------------


def _notice_too_soon(decision: Decision) -> bool:
    return decision.opens_at < clock.now() + timedelta(days=decision.notice_days)


@login_required
def decision_announce(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    decision = _managed(request, decision_id)
    if decision.state != DecisionState.DRAFT:
        messages.error(request, _("This decision has already been announced."))
        return redirect(_detail(decision))
    form = AnnounceForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        with refusal_on(form):
            lifecycle.decision_announce(decision=decision, by=request.user, shortened_reason=form.cleaned_data["shortened_reason"])
            messages.success(
                request, _("The decision notice is published. Voting opens at %(time)s.") % {"time": when_text(decision.opens_at)}
            )
            return redirect(_detail(decision))
    context = {
        "decision": decision,
        "form": form,
        "too_soon": _notice_too_soon(decision),
        "earliest": when_text(clock.now() + timedelta(days=decision.notice_days)),
        "notice": selectors.notice_content(StepKind.ANNOUNCED, lifecycle.notice_body(decision)),
    }
    return render(request, "voting/decisions/pages/announce.html", context)


@login_required
def decision_extend(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    decision = _managed(request, decision_id)
    form = ExtendForm(
        request.POST if request.method == "POST" else None,
        initial={"closes_at": timezone.localtime(decision.closes_at) + timedelta(days=7)},
    )
    if request.method == "POST" and form.is_valid():
        if request.POST.get("confirmed") != "1":
            form.add_error(None, _("Tick the box to confirm: the extension notice is published at once and cannot be withdrawn."))
        else:
            with refusal_on(form):
                lifecycle.decision_extend(
                    decision=decision, by=request.user, closes_at=form.cleaned_data["closes_at"], reason=form.cleaned_data["reason"]
                )
                messages.success(
                    request,
                    _("Voting now closes at %(time)s. The extension notice is published.")
                    % {"time": when_text(form.cleaned_data["closes_at"])},
                )
                return redirect(_detail(decision))
    return render(
        request, "voting/decisions/pages/extend.html", {"decision": decision, "form": form, "current_end": when_text(decision.closes_at)}
    )


@login_required
def decision_finalize(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    decision = _managed(request, decision_id)
    form = FinalizeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if request.POST.get("confirmed") != "1":
            form.add_error(None, _("Tick the box to confirm: the final announcement is sealed and cannot be changed."))
        else:
            with refusal_on(form):
                lifecycle.decision_finalize(decision=decision, by=request.user, counting_officers=form.officers())
                messages.success(request, _("The decision is final. The final announcement is published."))
                return redirect(_detail(decision))
    unanswered = Objection.objects.filter(decision=decision, answered_at__isnull=True).count()
    context = {"decision": decision, "form": form, "state_line": selectors.state_line(decision), "unanswered": unanswered}
    return render(request, "voting/decisions/pages/finalize.html", context)


# --- the decision page, objections -----------------------------------------------------------


def _render_detail(request: HttpRequest, decision: Decision, facts: DecisionFacts, **forms: Any) -> HttpResponse:
    context = selectors.decision_page(decision=decision, facts=facts, user=request.user)
    context["objection_form"] = forms.get("objection_form") or ObjectionForm()
    context["answer_forms"] = {o.pk: AnswerForm(prefix=f"a{o.pk}") for o in context["objections"]}
    if "answer_form" in forms:
        context["answer_forms"][forms["answer_id"]] = forms["answer_form"]
    context["answer_items"] = [{"objection": o, "form": context["answer_forms"][o.pk]} for o in context["objections"]]
    return render(request, "voting/decisions/pages/detail.html", context)


@login_required
def decision_detail(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    decision, facts = _readable(request, decision_id)
    return _render_detail(request, decision, facts)


@login_required
@require_POST
def objection_lodge(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    decision, facts = _readable(request, decision_id)
    form = ObjectionForm(request.POST)
    if form.is_valid():
        with refusal_on(form):
            lifecycle.objection_lodge(decision=decision, author=request.user, text=form.cleaned_data["text"])
            messages.success(request, _("Your objection is recorded. The moderators answer every objection; members see the answer here."))
            return redirect(_detail(decision) + "#objections")
    return _render_detail(request, decision, facts, objection_form=form)


@login_required
@require_POST
def objection_answer(request: AuthenticatedHttpRequest, decision_id: int, objection_id: int) -> HttpResponse:
    decision = _managed(request, decision_id)
    objection = get_object_or_404(Objection, pk=objection_id, decision=decision)
    form = AnswerForm(request.POST, prefix=f"a{objection.pk}")
    if form.is_valid():
        with refusal_on(form):
            lifecycle.objection_answer(objection=objection, by=request.user, answer=form.cleaned_data["answer"])
            messages.success(request, _("The answer is published to members."))
            return redirect(_detail(decision) + f"#objection-{objection.pk}")
    facts = decision_facts(user=request.user, decision=decision)
    return _render_detail(request, decision, facts, answer_form=form, answer_id=objection.pk)


# --- the owner's ballot ----------------------------------------------------------------------


def _room_id(request: HttpRequest) -> int | None:
    raw = request.POST.get("room") or request.GET.get("room") or ""
    return int(raw) if raw.isdigit() else None


@login_required
def decision_vote(request: AuthenticatedHttpRequest, decision_id: int) -> HttpResponse:
    decision, _facts = _readable(request, decision_id)
    matters, options, shown = selectors.ballot_matters(decision)
    room_id = _room_id(request)
    context: dict[str, Any] = {
        "decision": decision,
        "shown": shown,
        "state_line": selectors.state_line(decision),
        "room_id": room_id,
        "room": None,
        "key": request.POST.get("idempotency_key") or secrets.token_urlsafe(16),
        "rows": selectors.ballot_rows(shown),
    }
    try:
        unit = owner_unit(decision=decision, user=request.user)
        context["unit"] = unit
        if room_id is not None:
            context["room"] = room_of(decision=decision, session_id=room_id)
        # A confirmed ballot goes to vote_record, which answers a resend with its receipt.
        casting = request.method == "POST" and request.POST.get("confirmed") == "1"
        vote = selectors.vote_of_unit(decision, unit)
        if vote is not None and not casting:
            raise Refused(selectors.voted_sentence(vote), code="already_voted")
        if not casting:
            late = period_refusal(decision, at=clock.now())
            if late is not None:
                raise late
    except NotAllowed as refusal:
        context["refusal"] = str(refusal)
        return render(request, "voting/decisions/pages/ballot.html", context, status=403)
    except Refused as refusal:
        context["refusal"] = str(refusal)
        return render(request, "voting/decisions/pages/ballot.html", context)
    if request.method == "POST":
        choices = ballot_choices(request.POST, matters, options)
        context["rows"] = selectors.ballot_rows(shown, choices)
        if request.POST.get("change"):
            return render(request, "voting/decisions/pages/ballot.html", context)
        try:
            clean = clean_choices(decision, matters, choices)
        except Refused as refusal:
            context["error"] = str(refusal)
            return render(request, "voting/decisions/pages/ballot.html", context)
        if request.POST.get("confirmed") != "1":
            context["chosen"] = selectors.chosen_labels(shown, clean)
            context["posted"] = [(k, v) for k in request.POST for v in request.POST.getlist(k) if k.startswith("m")]
            return render(request, "voting/decisions/pages/ballot_confirm.html", context)
        try:
            recorded = owner_ballot_cast(
                decision=decision, user=request.user, choices=clean, idempotency_key=context["key"], room_id=room_id
            )
        except NotAllowed as refusal:
            context["refusal"] = str(refusal)
            return render(request, "voting/decisions/pages/ballot.html", context, status=403)
        except Refused as refusal:
            context["refusal"] = str(refusal)
            return render(request, "voting/decisions/pages/ballot.html", context)
        context.update({"recorded": recorded, "chosen": selectors.chosen_labels(shown, clean), "at": when_text(recorded.vote.at)})
        return render(request, "voting/decisions/pages/receipt.html", context)
    return render(request, "voting/decisions/pages/ballot.html", context)


# --- notices ---------------------------------------------------------------------------------


def _notice(decision_id: int, step_id: int) -> DecisionStep:
    step = get_object_or_404(DecisionStep.objects.select_related("decision", "decision__community"), pk=step_id, decision_id=decision_id)
    if step.kind not in NOTICE_KINDS:
        raise Http404
    return step


def decision_notice(request: HttpRequest, decision_id: int, step_id: int) -> HttpResponse:
    """A notice, as posted on the notice board: readable by anyone (docs/decisions-over-days.md)."""
    step = _notice(decision_id, step_id)
    notice = selectors.notice_view(step)
    receipt = (request.GET.get("receipt") or "").strip()[:64]
    checked = None
    if receipt and step.kind != StepKind.ANNOUNCED and step.kind != StepKind.EXTENDED:
        checked = selectors.receipt_in_notice(step, receipt)
    member = request.user.is_authenticated and is_member(user=request.user, community=step.decision.community_id)
    verdict = chain_verify(community=step.decision.community) if request.GET.get("verify") == "1" else None
    context = {"notice": notice, "decision": step.decision, "receipt": receipt, "checked": checked, "member": member, "verdict": verdict}
    return render(request, "voting/decisions/pages/notice.html", context)


def decision_notice_pdf(request: HttpRequest, decision_id: int, step_id: int) -> HttpResponse:
    from agora.infra.pdf import pdf_response, qr_svg, render_pdf

    step = _notice(decision_id, step_id)
    url = request.build_absolute_uri(reverse("decisions:pages_notice", args=[decision_id, step_id]))
    context = {"notice": selectors.notice_view(step), "decision": step.decision, "qr": qr_svg(url, size="28mm"), "url": url}
    pdf = render_pdf("voting/decisions/pages/notice_pdf.html", context, request=request)
    return pdf_response(pdf, f"{step.decision.title}-{step.seq}.pdf")
