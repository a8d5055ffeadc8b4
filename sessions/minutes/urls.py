"""/minutes/… (permalinks, exports, drafting, follow-up), /archive/ and /needs/ (see agora/urls.py)."""

from __future__ import annotations

from django.urls import path

from sessions.minutes import views

app_name = "minutes"

urlpatterns = [
    path("<int:record_id>/", views.minutes_detail, name="detail"),
    path("h/<str:content_hash>/", views.minutes_by_hash, name="by_hash"),
    path("<int:record_id>/print/", views.minutes_print, name="print"),
    path("<int:record_id>/minutes.json", views.minutes_json, name="json"),
    path("<int:record_id>/minutes.md", views.minutes_markdown, name="markdown"),
    path("<int:record_id>/votes.csv", views.minutes_votes_csv, name="votes_csv"),
    path("<int:record_id>/correct/", views.minutes_correct, name="correct"),
    path("session/<int:session_id>/", views.minutes_for_session, name="for_session"),
    path("draft/<int:session_id>/", views.minutes_draft, name="draft"),
    path("draft/<int:session_id>/action-items/", views.action_item_create, name="action_item_create"),
    path("action-items/<int:item_id>/", views.action_item_detail, name="action_item"),
    path("action-items/<int:item_id>/update/", views.action_item_update, name="action_item_update"),
    path("action-items/<int:item_id>/rate/", views.action_item_rate, name="action_item_rate"),
    path("follow-up/", views.follow_up, name="follow_up"),
]

archive_urlpatterns = ([path("", views.archive_list, name="list")], "archive")

needs_urlpatterns = (
    [
        path("", views.needs_index, name="index"),
        path("c/<slug:community_slug>/", views.needs_list, name="list"),
        path("<int:need_id>/", views.need_detail, name="detail"),
        path("<int:need_id>/support/", views.need_support, name="support"),
        path("<int:need_id>/merge/", views.need_merge, name="merge"),
        path("<int:need_id>/to-session/", views.need_to_session, name="to_session"),
    ],
    "needs",
)
