from __future__ import annotations

from django.urls import path

from agora.roster import views

app_name = "roster"

urlpatterns = [
    path("<slug:community_slug>/", views.roster_home, name="home"),
    path("<slug:community_slug>/upload/", views.roster_upload, name="upload"),
    path("<slug:community_slug>/upload/<str:token>/", views.roster_preview, name="preview"),
    path("<slug:community_slug>/residents/", views.roster_residents, name="residents"),
    path("<slug:community_slug>/sheets/", views.roster_sheets, name="sheets"),
    path("<slug:community_slug>/accounts/<int:user_id>/revoke/", views.roster_revoke, name="revoke"),
    path("<slug:community_slug>/accounts/<int:user_id>/password/", views.roster_password, name="password"),
    path("<slug:community_slug>/staff/", views.roster_staff, name="staff"),
    path("<slug:community_slug>/staff/<int:membership_id>/remove/", views.roster_staff_remove, name="staff_remove"),
    path("<slug:community_slug>/staff/<int:membership_id>/grids/", views.roster_staff_grids, name="staff_grids"),
]
