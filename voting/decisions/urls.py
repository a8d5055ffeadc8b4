"""/decisions/…: each feature of owners' decisions adds its own pages here (one include each)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

app_name = "decisions"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("voting.decisions.pages.urls")),
    path("", include("voting.decisions.paper.urls")),
    path("", include("voting.decisions.door.urls")),
    path("", include("voting.decisions.progress.urls")),
]
