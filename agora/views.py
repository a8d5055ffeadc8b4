"""Site-wide pages: home, the elder-mode switch, the security log."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from agora.audit import KIND_LABELS, audit_events_for
from agora.models import Community
from agora.preferences import ELDER_COOKIE, elder_mode_set
from agora.roles import is_moderator


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("topic_sessions:list")
    return render(request, "agora/home.html")


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return "/"
    return target


@require_POST
def elder_mode_toggle(request: HttpRequest) -> HttpResponse:
    on = request.POST.get("on") == "1"
    elder_mode_set(user=request.user, on=on)
    response = redirect(_safe_next(request))
    response.set_cookie(ELDER_COOKIE, "1" if on else "0", max_age=60 * 60 * 24 * 365 * 5, samesite="Lax", httponly=True)
    return response


@login_required
def audit_log(request: HttpRequest, community_slug: str) -> HttpResponse:
    community = get_object_or_404(Community, slug=community_slug)
    if not is_moderator(user=request.user, community=community):
        raise Http404
    page_obj = Paginator(audit_events_for(user=request.user, community=community), 50).get_page(request.GET.get("page"))
    for event in page_obj:
        event.label = KIND_LABELS.get(event.kind, event.kind)
    return render(request, "agora/audit_log.html", {"community": community, "page_obj": page_obj})
