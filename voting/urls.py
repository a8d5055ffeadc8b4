from __future__ import annotations

from django.urls import path

from voting import views

app_name = "voting"

urlpatterns = [
    path("new/", views.motion_create, name="create"),
    path("<int:motion_id>/open/", views.motion_open, name="open"),
    path("<int:motion_id>/close/", views.motion_close, name="close"),
    path("<int:motion_id>/draw/", views.motion_tie_draw, name="draw"),
    path("<int:motion_id>/discard/", views.motion_discard, name="discard"),
    path("<int:motion_id>/ballot/", views.ballot_cast, name="ballot"),
    path("<int:motion_id>/in-person/", views.in_person_enter, name="in_person"),
    path("<int:motion_id>/results/", views.motion_results, name="results"),
    path("<int:motion_id>/results/receipt/", views.receipt_check, name="receipt_check"),
    path("<int:motion_id>/results/screen/", views.motion_results_screen, name="results_screen"),
]
