"""Pages for the needs list (需求清单): submit, support, merge, turn into a session."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from agora.infra.http import AuthenticatedHttpRequest
from agora.infra.redirects import next_url
from agora.infra.refusals import refusal_on, refusals_answered
from records import rules, selectors, services
from records.access import access_need, access_needs
from records.forms import NeedForm, NeedToSessionForm
from records.models import Need, NeedStatus, NeedSupport
from records.views import PAGE_SIZE


@login_required
@require_GET
def needs_index(request: AuthenticatedHttpRequest) -> HttpResponse:
    communities = selectors.needs_communities(user=request.user)
    if len(communities) == 1:
        return redirect("needs:list", community_slug=communities[0].slug)
    return render(request, "minutes/needs_index.html", {"communities": communities})


@login_required
def needs_list(request: AuthenticatedHttpRequest, community_slug: str) -> HttpResponse:
    community = access_needs(request.user, community_slug)
    form = NeedForm(request.POST or None, community=community)
    status_code = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_on(form) as attempt:
            need = services.need_submit(
                community=community,
                by=request.user,
                text=data["text"],
                category=data["category"],
                building_id=data["building"].pk if data["building"] else None,
            )
            messages.success(request, _("Thank you. Your need is on the list; neighbours can support it."))
            return redirect("needs:detail", need_id=need.pk)
        status_code = attempt.status
    status = request.GET.get("status", NeedStatus.OPEN)
    if status not in NeedStatus.values and status != "all":
        status = NeedStatus.OPEN
    needs = selectors.needs_for(community=community, status="" if status == "all" else status)
    page = Paginator(needs, PAGE_SIZE).get_page(request.GET.get("page"))
    supported: set[int] = set()
    if request.user.is_authenticated:
        supported = set(NeedSupport.objects.filter(user=request.user, need__in=[n.pk for n in page]).values_list("need_id", flat=True))
    return render(
        request,
        "minutes/needs_list.html",
        {
            "community": community,
            "form": form,
            "page": page,
            "status": status,
            "statuses": NeedStatus.choices,
            "supported": supported,
            "can_submit": rules.can_submit_need(user=request.user, community_id=community.pk),
            "can_manage": rules.can_manage_needs(user=request.user, community_id=community.pk),
        },
        status=status_code,
    )


def _need_page(request: HttpRequest, need_id: int) -> str:
    return reverse("needs:detail", kwargs={"need_id": need_id})


def _back_to_need(request: HttpRequest, need_id: int) -> str:
    return next_url(request, _need_page(request, need_id))


@login_required
@require_GET
def need_detail(request: AuthenticatedHttpRequest, need_id: int) -> HttpResponse:
    need = access_need(request.user, need_id)
    can_manage = rules.can_manage_needs(user=request.user, community_id=need.community_id)
    others = (
        Need.objects.filter(community=need.community, status=NeedStatus.OPEN).exclude(pk=need.pk).order_by("-created_at")[:200]
        if can_manage
        else []
    )
    return render(
        request,
        "minutes/need_detail.html",
        {
            "need": need,
            "support_count": need.supports.count(),
            "supporting": need.supports.filter(user=request.user).exists(),
            "can_support": rules.can_support_need(user=request.user, need=need),
            "can_manage": can_manage,
            "merge_candidates": others,
            "session_form": NeedToSessionForm(initial={"title": need.text[:120]}),
            "duplicates": need.duplicates.all(),
        },
    )


@login_required
@require_POST
@refusals_answered(back=_back_to_need)
def need_support(request: AuthenticatedHttpRequest, need_id: int) -> HttpResponse:
    need = access_need(request.user, need_id)
    supporting = request.POST.get("support") != "0"
    services.need_support(need=need, user=request.user, supporting=supporting)
    messages.success(request, _("You support this need.") if supporting else _("You no longer support this need."))
    return redirect(_back_to_need(request, need.pk))


@login_required
@require_POST
@refusals_answered(back=_need_page)
def need_merge(request: AuthenticatedHttpRequest, need_id: int) -> HttpResponse:
    need = access_need(request.user, need_id)
    into = Need.objects.filter(pk=request.POST.get("into") or 0, community=need.community).first()
    if into is None:
        messages.error(request, _("Choose another need of the same community to merge into."))
        return redirect("needs:detail", need_id=need.pk)
    services.need_merge(need=need, into=into, by=request.user)
    messages.success(request, _("Merged. Its supporters now support this need."))
    return redirect("needs:detail", need_id=into.pk)


@login_required
@require_POST
@refusals_answered(back=_need_page)
def need_to_session(request: AuthenticatedHttpRequest, need_id: int) -> HttpResponse:
    need = access_need(request.user, need_id)
    form = NeedToSessionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the session a title and a start time."))
        return redirect("needs:detail", need_id=need.pk)
    session = services.need_to_session(
        need=need, by=request.user, title=form.cleaned_data["title"], starts_at=form.cleaned_data["starts_at"]
    )
    messages.success(request, _("A draft topic session was created from this need."))
    return redirect("topic_sessions:edit", session_id=session.pk)
