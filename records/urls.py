"""/minutes/… (permalinks, exports, drafting, follow-up), /archive/ and /needs/ (see agora/urls.py)."""

from __future__ import annotations

from django.urls import path

from records import followup_views, needs_views, views

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
    path("draft/<int:session_id>/action-items/", followup_views.action_item_create, name="action_item_create"),
    path("action-items/<int:item_id>/", followup_views.action_item_detail, name="action_item"),
    path("action-items/<int:item_id>/update/", followup_views.action_item_update, name="action_item_update"),
    path("action-items/<int:item_id>/rate/", followup_views.action_item_rate, name="action_item_rate"),
    path("follow-up/", followup_views.follow_up, name="follow_up"),
]

archive_urlpatterns = ([path("", views.archive_list, name="list")], "archive")

needs_urlpatterns = (
    [
        path("", needs_views.needs_index, name="index"),
        path("c/<slug:community_slug>/", needs_views.needs_list, name="list"),
        path("<int:need_id>/", needs_views.need_detail, name="detail"),
        path("<int:need_id>/support/", needs_views.need_support, name="support"),
        path("<int:need_id>/merge/", needs_views.need_merge, name="merge"),
        path("<int:need_id>/to-session/", needs_views.need_to_session, name="to_session"),
    ],
    "needs",
)
