from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from agora.roster.preferences import ELDER_COOKIE, elder_mode_for


class DisplayPreferencesMiddleware:
    """Puts ``request.elder_mode`` on every request: the user's saved choice, else the device cookie."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.elder_mode = elder_mode_for(user=request.user, cookie=request.COOKIES.get(ELDER_COOKIE))  # type: ignore[attr-defined]
        return self.get_response(request)
