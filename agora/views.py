"""Site-wide pages: home, the elder-mode switch, the security log, the error pages."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.template import loader
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from agora.infra.refusals import refusal_sentence
from agora.roster.audit import KIND_LABELS, audit_events_for
from agora.roster.audit_details import detail_rows
from agora.roster.models import Community, Tag
from agora.roster.preferences import ELDER_COOKIE, elder_cookie_set, elder_mode_set
from agora.roster.roles import is_moderator
from records.selectors import home_digest


def home(request: HttpRequest) -> HttpResponse:
    """Signed in: the person's sessions. A visitor: what the hall is, the latest resolutions and
    minutes they may read, and how a resident joins."""
    if request.user.is_authenticated:
        return redirect("topic_sessions:list")
    return render(request, "agora/home.html", home_digest(user=request.user))


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
    elder_cookie_set(response, on=on)
    return response


@login_required
def audit_log(request: HttpRequest, community_slug: str) -> HttpResponse:
    community = get_object_or_404(Community, slug=community_slug)
    if not is_moderator(user=request.user, community=community):
        raise Http404
    page_obj = Paginator(audit_events_for(user=request.user, community=community), 50).get_page(request.GET.get("page"))
    tags = {tag.slug: tag.label(translation.get_language()) for tag in Tag.objects.all()}
    rows = [(event, KIND_LABELS.get(event.kind, event.kind), detail_rows(event.kind, event.detail, tags=tags)) for event in page_obj]
    return render(request, "agora/audit_log.html", {"community": community, "page_obj": page_obj, "rows": rows})


# --- Error pages (agora/urls.py handler403/404/500, settings.CSRF_FAILURE_VIEW) ---------------
# Rendered without the request's template context: no database, no session, no user. A 500 may
# come from the database being down, and a page that needs it to say so would fail too. The
# language comes from the cookie or Accept-Language, as LocaleMiddleware would choose it.


def _error_page(request: HttpRequest, *, template: str, status: int, context: dict[str, object]) -> HttpResponse:
    language = translation.get_language_from_request(request)
    with translation.override(language):
        body = loader.get_template(template).render({"elder_mode": request.COOKIES.get(ELDER_COOKIE) == "1", **context})
    response = HttpResponse(body, status=status)
    response.headers["Content-Language"] = language
    return response


def _signed_in(request: HttpRequest) -> bool:
    try:
        return bool(request.user.is_authenticated)
    except Exception:  # noqa: BLE001 — the session store is down: the page says what it can
        return False


def _login_url(request: HttpRequest) -> str | None:
    if _signed_in(request):
        return None
    return f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': request.get_full_path()})}"


def _back_url(request: HttpRequest) -> str | None:
    referer = request.META.get("HTTP_REFERER", "")
    if not referer or referer == request.build_absolute_uri():
        return None
    if not url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return None
    return referer


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(request, template="404.html", status=404, context={"login_url": _login_url(request), "back_url": _back_url(request)})


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    context = {"login_url": _login_url(request), "back_url": _back_url(request), "reason": refusal_sentence(exception)}
    return _error_page(request, template="403.html", status=403, context=context)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error_page(request, template="403.html", status=403, context={"csrf_failure": True, "back_url": _back_url(request)})


def server_error(request: HttpRequest) -> HttpResponse:
    retry_url = request.get_full_path() if request.method == "GET" else None
    return _error_page(request, template="500.html", status=500, context={"retry_url": retry_url})
