from __future__ import annotations

from django.urls import include, path

from sessions import views

app_name = "topic_sessions"

urlpatterns = [
    path("", views.session_list, name="list"),
    path("new/<slug:community_slug>/", views.session_create, name="create"),
    path("<int:session_id>/", views.session_detail, name="detail"),
    path("<int:session_id>/edit/", views.session_edit, name="edit"),
    path("<int:session_id>/attend/", views.session_attend, name="attend"),
    path("<int:session_id>/messages/", views.message_create, name="message_create"),
    path("<int:session_id>/meeting/", include("sessions.meeting.urls")),
    path("<int:session_id>/adjourn/confirm/", views.session_adjourn_confirm, name="adjourn_confirm"),
    path("<int:session_id>/adjourn/undo/", views.session_adjourn_undo, name="adjourn_undo"),
    path("<int:session_id>/<slug:action>/", views.session_transition, name="transition"),
]
