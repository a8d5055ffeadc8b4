from __future__ import annotations

from django.urls import path

from sessions.consumers import SessionConsumer
from sessions.meeting.projector import ProjectorConsumer

websocket_urlpatterns = [
    path("ws/sessions/<int:session_id>/", SessionConsumer.as_asgi()),
    path("ws/projector/<str:token>/", ProjectorConsumer.as_asgi()),
]
