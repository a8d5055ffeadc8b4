"""/decisions/<id>/paper/…: paper ballots (names prefixed ``paper_`` in the "decisions" namespace)."""

from __future__ import annotations

from django.urls import path

from voting.decisions.paper import views

urlpatterns = [
    path("<int:decision_id>/paper/", views.paper_home, name="paper_home"),
    path("<int:decision_id>/paper/prepare/", views.paper_prepare, name="paper_prepare"),
    path("<int:decision_id>/paper/ballots.pdf", views.paper_pdf, name="paper_pdf"),
    path("<int:decision_id>/paper/register/", views.paper_register, name="paper_register"),
    path("<int:decision_id>/paper/enter/", views.paper_enter, name="paper_enter"),
    path("<int:decision_id>/paper/entries/", views.paper_entries, name="paper_entries"),
    path("<int:decision_id>/paper/entries/<int:vote_id>/void/", views.paper_void, name="paper_void"),
    path("<int:decision_id>/paper/review/", views.paper_reviews, name="paper_reviews"),
    path("<int:decision_id>/paper/review/<int:vote_id>/", views.paper_review, name="paper_review"),
    path("<int:decision_id>/paper/conflicts/", views.paper_conflicts, name="paper_conflicts"),
]
