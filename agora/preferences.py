"""Elder mode (适老化): switched on once and kept, per user and per device before login."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from agora.models import DisplayPreference

ELDER_COOKIE = "agora_elder"


def elder_mode_for(*, user: AbstractBaseUser | AnonymousUser, cookie: str | None) -> bool:
    if user.is_authenticated:
        pref = DisplayPreference.objects.filter(user=user).values_list("elder_mode", flat=True).first()
        if pref is not None:
            return bool(pref)
    return cookie == "1"


def elder_mode_set(*, user: AbstractBaseUser | AnonymousUser, on: bool) -> None:
    if user.is_authenticated:
        DisplayPreference.objects.update_or_create(user=user, defaults={"elder_mode": on})
