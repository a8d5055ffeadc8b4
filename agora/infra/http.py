"""The request type of a page behind a login: what views may assume about ``request``.

``@login_required`` (and the role checks built on it) guarantee a real account, but Django's
``HttpRequest.user`` is typed ``User | AnonymousUser``; views behind a login annotate their
request with ``AuthenticatedHttpRequest`` so that services get a ``User`` (django-stubs'
recommended pattern). ``htmx`` is set by django-htmx's middleware on every request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    user: User
