"""Site-wide pages: home, the elder-mode switch."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from agora.preferences import ELDER_COOKIE, elder_mode_set


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
