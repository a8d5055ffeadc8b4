"""Agora's URLs and error handlers, plus a page that refuses everyone (nothing in Agora raises
PermissionDenied on its own today; Django's decorators and the admin can)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path

from agora.urls import handler403, handler404, handler500
from agora.urls import urlpatterns as agora_urlpatterns

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


def refused(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


urlpatterns = [path("refused/", refused), *agora_urlpatterns]
