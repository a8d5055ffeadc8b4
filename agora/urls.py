from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from agora import views
from agora.roster import views as roster_views
from records import urls as minutes_urls

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i/", roster_views.code_login, name="code_login_form"),
    path("i/<str:code>/", roster_views.code_login, name="code_login"),
    path("welcome/", roster_views.code_welcome, name="code_welcome"),
    path("roster/", include("agora.roster.urls")),
    path("prefs/elder/", views.elder_mode_toggle, name="elder_mode"),
    path("audit/<slug:community_slug>/", views.audit_log, name="audit_log"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("sessions/<int:session_id>/motions/", include("voting.urls")),
    path("sessions/", include("sessions.urls")),
    path("decisions/", include("voting.decisions.urls")),
    path("minutes/", include("records.urls")),
    path("archive/", include(minutes_urls.archive_urlpatterns)),
    path("needs/", include(minutes_urls.needs_urlpatterns)),
    path("", include("sessions.meeting.public_urls")),
    path("admin/", admin.site.urls),
]

# Error pages in the reader's language, with what to do next (agora/views.py).
handler403 = "agora.views.permission_denied"
handler404 = "agora.views.page_not_found"
handler500 = "agora.views.server_error"
