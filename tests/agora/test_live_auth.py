"""agora.infra.live_auth and agora.infra.session_store: the same people are let in, and the same people are
turned away, as by Django's own ``django.contrib.auth.get_user`` (not Channels' copy, which ignores
``SECRET_KEY_FALLBACKS``); only the reads are cheaper."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth import get_user as django_get_user
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agora.infra.live_auth import live_user
from agora.infra.session_store import SessionStore
from tests.factories import user_make

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
OLD_KEY = "agora-test-old-secret-key-0123456789-0123456789-0123456789"
NEW_KEY = "agora-test-new-secret-key-9876543210-9876543210-9876543210"


def django_user(scope: dict[str, Any]) -> Any:
    """Django's own rule, given the same session a live connect has."""
    return django_get_user(SimpleNamespace(session=scope["session"]))


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


def test_the_same_people_are_let_in_as_by_django() -> None:
    made = cases("ours")
    for name, (key, want) in made.items():
        ours = resolve(live_user, key)
        assert ours[0] == want, name
    for name, (key, want) in cases("django").items():
        assert resolve(django_user, key)[0] == want, name


def test_a_session_that_no_longer_verifies_is_deleted_as_django_does() -> None:
    made = cases("ours")
    ours = {name: resolve(live_user, key)[1] for name, (key, _want) in made.items()}
    theirs = {name: resolve(django_user, key)[1] for name, (key, _want) in cases("django").items()}
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


def test_after_a_secret_key_rotation_the_live_connect_keeps_people_logged_in_as_django_does() -> None:
    """Sessions made under the old key still verify through SECRET_KEY_FALLBACKS; a hash that
    matches no key is still turned away and its session flushed."""
    with override_settings(SECRET_KEY=OLD_KEY, SECRET_KEY_FALLBACKS=[]):
        resident = user_make("rot-resident")
        ours_key, django_key = session_for(resident), session_for(resident)
        forged = session_for(resident, auth_hash="0" * 64)
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY]):
        assert resolve(django_user, django_key)[0] == "resident"
        assert resolve(live_user, ours_key) == ("resident", True)  # let in, and not logged out elsewhere
        assert resolve(live_user, forged) == (None, False)
        # The next page load is Django's: it moves the session to the new key and keeps the user.
        assert resolve(django_user, ours_key)[0] == "resident"
    with override_settings(SECRET_KEY=OLD_KEY, SECRET_KEY_FALLBACKS=[]):
        stale = session_for(resident)
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[]):
        # Once the old key is retired, its sessions no longer open: logged out, as by Django.
        assert resolve(live_user, stale)[0] is None and resolve(django_user, stale)[0] is None
