from __future__ import annotations

from typing import TYPE_CHECKING

from sessions.routing import consumer_path
from voting.decisions.progress.consumers import DecisionProgressConsumer

if TYPE_CHECKING:
    from channels.routing import URLRouter, _ExtendedURLPattern

websocket_urlpatterns: list[_ExtendedURLPattern | URLRouter] = [
    consumer_path("ws/decisions/<int:decision_id>/progress/", DecisionProgressConsumer.as_asgi()),
]
