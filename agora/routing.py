from __future__ import annotations

from sessions.routing import websocket_urlpatterns as session_ws
from voting.decisions.progress.routing import websocket_urlpatterns as decision_ws

websocket_urlpatterns = [*session_ws, *decision_ws]
