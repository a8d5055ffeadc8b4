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


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_message_create_post_permissions(world: World, role: str) -> None:
    """Posting a message by form: the audience, the observer and the moderator; a refusal writes no message."""
    from sessions.models import Message

    before = list(Message.objects.values_list("pk", "text_html"))
    url = reverse("topic_sessions:message_create", args=[world.session.pk])
    _client(world, role).post(url, {"text": "权限表测试"})
    after = list(Message.objects.values_list("pk", "text_html"))
    if role in {"observer", "resident", "moderator"}:  # observers may be given the floor (PRODUCT.md)
        assert len(after) == len(before) + 1, role
    else:
        assert after == before, role
