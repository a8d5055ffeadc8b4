from __future__ import annotations

from django.urls import path

from voting.decisions.progress import views

urlpatterns = [
    path("<int:decision_id>/progress/", views.progress_page, name="progress_page"),
    path("<int:decision_id>/results/", views.results_page, name="progress_results"),
    path("<int:decision_id>/results/objection/", views.objection_view, name="progress_objection"),
    path("<int:decision_id>/results/correction/", views.correction_view, name="progress_correction"),
    path("<int:decision_id>/results/final/", views.finalize_view, name="progress_finalize"),
    path("<int:decision_id>/results/announcement/", views.announcement_page, name="progress_announcement"),
    path("<int:decision_id>/results/announcement/pdf/", views.announcement_pdf, name="progress_announcement_pdf"),
]
