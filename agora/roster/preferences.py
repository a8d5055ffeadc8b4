"""Elder mode (适老化): switched on once and kept, per user and per device before login."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpResponse

from agora.roster.models import DisplayPreference

ELDER_COOKIE = "agora_elder"
ELDER_COOKIE_AGE = 60 * 60 * 24 * 365 * 5


def elder_mode_for(*, user: User | AnonymousUser, cookie: str | None) -> bool:
    if user.is_authenticated:
        pref = DisplayPreference.objects.filter(user=user).values_list("elder_mode", flat=True).first()
        if pref is not None:
            return bool(pref)
    return cookie == "1"


def elder_mode_set(*, user: User | AnonymousUser, on: bool) -> None:
    if user.is_authenticated:
        DisplayPreference.objects.update_or_create(user=user, defaults={"elder_mode": on})


def elder_cookie_set(response: HttpResponse, *, on: bool) -> None:
    """The device's choice, for before login. Like the language cookie: HTTPS-only in
    production (settings.LANGUAGE_COOKIE_SECURE), never read by scripts, not sent cross-site."""
    response.set_cookie(
        ELDER_COOKIE,
        "1" if on else "0",
        max_age=ELDER_COOKIE_AGE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
