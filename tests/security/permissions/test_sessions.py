"""Permission table for the topic-session views: every role against each view, refusals change nothing.

A first slice of the issue's table (issue 7): the session detail and edit pages, GET.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import World

ROLES = ["anonymous", "other_resident", "outsider", "observer", "resident", "other_moderator", "moderator"]

# (url name, method) -> the roles allowed; every other role is refused.
TABLE = {
    ("topic_sessions:detail", "get"): {"observer", "resident", "moderator"},
    ("topic_sessions:edit", "get"): {"moderator"},
}


def _client(world: World, role: str) -> Client:
    c = Client()
    if role != "anonymous":
        c.force_login(getattr(world, role))
    return c


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "method"), list(TABLE))
def test_session_view_permissions(world: World, name: str, method: str, role: str) -> None:
    url = reverse(name, args=[world.session.pk])
    resp = getattr(_client(world, role), method)(url)
    allowed = role in TABLE[(name, method)]
    if allowed:
        assert resp.status_code == 200, (name, method, role, resp.status_code)
    else:
        assert resp.status_code in (302, 403, 404), (name, method, role, resp.status_code)
