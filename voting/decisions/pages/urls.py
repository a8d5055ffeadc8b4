"""/decisions/…: the decision's own pages (names prefixed ``pages_`` in the "decisions" namespace)."""

from __future__ import annotations

from django.urls import path

from voting.decisions.pages import views

urlpatterns = [
    path("", views.decision_index, name="pages_index"),
    path("c/<slug:community_slug>/", views.decision_list, name="pages_list"),
    path("c/<slug:community_slug>/new/", views.decision_create, name="pages_create"),
    path("<int:decision_id>/", views.decision_detail, name="pages_detail"),
    path("<int:decision_id>/discard/", views.decision_discard, name="pages_discard"),
    path("<int:decision_id>/announce/", views.decision_announce, name="pages_announce"),
    path("<int:decision_id>/extend/", views.decision_extend, name="pages_extend"),
    path("<int:decision_id>/finalize/", views.decision_finalize, name="pages_finalize"),
    path("<int:decision_id>/objections/", views.objection_lodge, name="pages_object"),
    path("<int:decision_id>/objections/<int:objection_id>/answer/", views.objection_answer, name="pages_answer"),
    path("<int:decision_id>/vote/", views.decision_vote, name="pages_vote"),
    path("<int:decision_id>/notices/<int:step_id>/", views.decision_notice, name="pages_notice"),
    path("<int:decision_id>/notices/<int:step_id>/pdf/", views.decision_notice_pdf, name="pages_notice_pdf"),
]
