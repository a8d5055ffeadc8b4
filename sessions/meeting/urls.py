"""Meeting URLs under /sessions/<id>/meeting/ (included from sessions/urls.py)."""

from __future__ import annotations

from django.urls import path

from sessions.meeting import views

urlpatterns = [
    path("log/", views.moderation_log, name="meeting_log"),
    path("next/", views.console_next, name="meeting_console_next"),
    path("checkin/", views.checkin_desk, name="meeting_checkin"),
    path("checkin-qr.png", views.checkin_qr, name="meeting_checkin_qr"),
    path("<str:action>/", views.meeting_action, name="meeting_action"),
]
