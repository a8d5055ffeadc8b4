"""agora.live_auth and agora.session_store: the same people are let in, and the same people are
turned away, as by Channels' own ``get_user``; only the reads are cheaper."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from channels.auth import get_user as channels_get_user
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agora.live_auth import live_user
from agora.session_store import SessionStore
from tests.factories import user_make

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def session_for(user: Any, *, backend: str = MODEL_BACKEND, auth_hash: str | None = None) -> str:
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = backend
    store[HASH_SESSION_KEY] = user.get_session_auth_hash() if auth_hash is None else auth_hash
    store.create()
    assert store.session_key is not None
    return store.session_key


def resolve(get: Callable[[dict[str, Any]], Any], session_key: str | None) -> tuple[str | None, bool]:
    """Who ``get`` lets in for this cookie, and whether the session row is still there."""
    scope = {"session": SessionStore(session_key)}
    user = get(scope)
    exists = session_key is not None and Session.objects.filter(session_key=session_key).exists()
    return (user.username.split("-", 1)[1] if user.is_authenticated else None), exists


def cases(tag: str) -> dict[str, tuple[str | None, str | None]]:
    """Name: (session key, the user that must be let in, or None); usernames are "<tag>-<name>"."""
    resident = user_make(f"{tag}-resident")
    admin = user_make(f"{tag}-admin")
    admin.is_superuser = True
    admin.save()
    inactive = user_make(f"{tag}-inactive")
    moved = user_make(f"{tag}-moved")  # changed their password on another device after logging in here
    gone = user_make(f"{tag}-gone")
    made: dict[str, tuple[str | None, str | None]] = {
        "resident": (session_for(resident), "resident"),
        "superuser": (session_for(admin), "admin"),
        "inactive": (session_for(inactive), None),
        "password changed": (session_for(moved), None),
        "no hash": (session_for(resident, auth_hash=""), None),
        "forged hash": (session_for(resident, auth_hash="0" * 64), None),
        "backend no longer configured": (session_for(resident, backend="some.old.Backend"), None),
        "user deleted": (session_for(gone), None),
        "no such session": ("x" * 32, None),
        "no cookie": (None, None),
        "too short a key": ("abc", None),
    }
    expired = session_for(resident)
    Session.objects.filter(session_key=expired).update(expire_date=timezone.now() - timedelta(seconds=1))
    made["expired"] = (expired, None)
    anonymous = SessionStore()
    anonymous["django_language"] = "en"
    anonymous.create()
    made["anonymous session with data"] = (anonymous.session_key, None)
    inactive.is_active = False
    inactive.save()
    moved.set_password("another-password-9")
    moved.save()
    gone.delete()
    return made


def test_the_same_people_are_let_in_as_by_channels() -> None:
    made = cases("ours")
    for name, (key, want) in made.items():
        ours = resolve(live_user, key)
        assert ours[0] == want, name
    for name, (key, want) in cases("channels").items():
        assert resolve(channels_get_user.func, key)[0] == want, name


def test_a_session_that_no_longer_verifies_is_deleted_as_channels_does() -> None:
    made = cases("ours")
    ours = {name: resolve(live_user, key)[1] for name, (key, _want) in made.items()}
    theirs = {name: resolve(channels_get_user.func, key)[1] for name, (key, _want) in cases("channels").items()}
    assert ours == theirs
    assert ours["resident"] and not ours["password changed"] and not ours["forged hash"]


def test_a_connect_reads_two_rows_with_two_statements() -> None:
    key = session_for(user_make("t-resident"))
    with CaptureQueriesContext(connection) as queries:
        assert resolve(live_user, key)[0] == "resident"
    statements = [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"] or "auth_user" in q["sql"]]
    assert len(statements) == 3, statements  # the session, the user, and this test's own exists()


def test_the_session_store_loads_a_live_session_and_not_an_expired_one() -> None:
    key = session_for(user_make("t-resident"))
    assert SessionStore(key).get(SESSION_KEY) is not None
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    store = SessionStore(key)
    assert store.get(SESSION_KEY) is None
    assert store.session_key is None  # as Django's: an expired key is not reused
