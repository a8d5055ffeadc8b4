from __future__ import annotations

from sessions.routing import websocket_urlpatterns as session_ws

websocket_urlpatterns = [*session_ws]
