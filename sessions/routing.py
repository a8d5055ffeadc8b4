from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.urls import path

from sessions.consumers import SessionConsumer
from sessions.meeting.projector import ProjectorConsumer

if TYPE_CHECKING:
    from channels.consumer import _ASGIApplicationProtocol
    from channels.routing import URLRouter, _ExtendedURLPattern


def consumer_path(route: str, consumer: _ASGIApplicationProtocol) -> _ExtendedURLPattern:
    """``django.urls.path`` for a consumer, as Channels' URLRouter takes it: django-stubs' ``path``
    knows views only, types-channels names the pattern a consumer makes (type-check-only)."""
    return cast("_ExtendedURLPattern", path(route, consumer))  # type: ignore[arg-type]


websocket_urlpatterns: list[_ExtendedURLPattern | URLRouter] = [
    consumer_path("ws/sessions/<int:session_id>/", SessionConsumer.as_asgi()),
    consumer_path("ws/projector/<str:token>/", ProjectorConsumer.as_asgi()),
]
