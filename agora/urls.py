from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from agora import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("prefs/elder/", views.elder_mode_toggle, name="elder_mode"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("sessions/", include("sessions.urls")),
    path("admin/", admin.site.urls),
]
