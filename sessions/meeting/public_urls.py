"""Short public paths of the hybrid room: join codes, the check-in QR code, the projector."""

from __future__ import annotations

from django.urls import path

from sessions.meeting import views

urlpatterns = [
    path("join/", views.join, name="meeting_join"),
    path("j/<str:code>/", views.join_code, name="meeting_join_code"),
    path("j/<str:code>/qr.png", views.join_qr, name="meeting_join_qr"),
    path("j/<str:code>/checkin/<str:token>/", views.checkin_self, name="meeting_checkin_self"),
    path("projector/<str:token>/", views.projector, name="meeting_projector"),
    path("projector/<str:token>/checkin-qr.png", views.projector_checkin_qr, name="meeting_projector_checkin_qr"),
]
