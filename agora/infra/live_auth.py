"""Who is opening a live connection: Channels' ``AuthMiddlewareStack``, with the two reads that
every connect makes (the Django session row, then the user) done with plain statements.

In a connect storm, Channels' ``get_user`` was ~28 % of the server's CPU (py-spy, 2,000
residents; docs/performance.md): the ORM builds and compiles ``Session.objects.get(...)`` and
``User.objects.get(pk=...)`` for every connection, ~0.4 ms each against ~0.15–0.25 ms to run
them. The rule is ``django.contrib.auth.get_user`` (not Channels' copy, which ignores
``SECRET_KEY_FALLBACKS`` and so, after a key rotation, flushed every session at the first live
connect): the session names a user and the backend that logged them in; the backend must still be
configured; the user must still exist and be active (``ModelBackend.user_can_authenticate``); the
session's password hash must match under the current secret key or one of the fallbacks, else the
session is flushed. One difference is forced by the transport: where Django, on a hash made with a
fallback key, cycles the session key and stores the new hash, a WebSocket cannot hand the browser a
new cookie, so the live connect lets the user in and leaves the session as it is; the next page
load does Django's rotation. Only the two reads differ otherwise:

- the session row is read by ``agora.infra.session_store.SessionStore`` (the project's session engine,
  so HTTP requests read it the same way);
- for ``ModelBackend`` (the only backend that logs anyone in here) the user row is read with one
  statement compiled once per process (``agora.infra.precompiled``); any other backend is asked as Channels asks it.

It also runs in the thread pool rather than on the one thread-sensitive thread, so the reads of a
storm's connections overlap instead of queueing behind posts and ballots.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from channels.auth import AuthMiddleware
from channels.db import database_sync_to_async
from channels.sessions import CookieMiddleware, SessionMiddleware
from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
)
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, User
from django.utils.crypto import constant_time_compare

from agora.infra.precompiled import Precompiled

# The user row by primary key, compiled once per process (agora/infra/precompiled.py).
_USER = Precompiled(lambda user_id: get_user_model().objects.filter(pk=user_id), "user_id")


def _user_by_pk(user_id: Any) -> Any | None:
    rows = list(get_user_model().objects.raw(*_USER.sql(user_id=user_id)))
    return rows[0] if rows else None


def _backend_user(backend: Any, user_id: Any) -> Any | None:
    if type(backend) is not ModelBackend:
        return backend.get_user(user_id)
    user = _user_by_pk(user_id)
    return user if user is not None and backend.user_can_authenticate(user) else None


def _session_hash_verifies(user: Any, session_hash: Any) -> bool:
    """The session's hash matches under the current secret key or one of ``SECRET_KEY_FALLBACKS``."""
    if not session_hash:
        return False
    if constant_time_compare(session_hash, user.get_session_auth_hash()):
        return True
    return any(constant_time_compare(session_hash, fallback) for fallback in user.get_session_auth_fallback_hash())


def _session_user_id(session: Any) -> Any:
    """The user id the session names (KeyError if none), read as django.contrib.auth reads it
    (Channels' ``_get_user_session_key`` is private)."""
    return get_user_model()._meta.pk.to_python(session[SESSION_KEY])


def live_user(scope: Mapping[str, Any]) -> Any:
    """``django.contrib.auth.get_user`` for a live connect: the scope's user, or ``AnonymousUser``."""
    session = scope["session"]
    user = None
    try:
        user_id = _session_user_id(session)
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        pass
    else:
        if backend_path in settings.AUTHENTICATION_BACKENDS:
            user = _backend_user(load_backend(backend_path), user_id)
            if hasattr(user, "get_session_auth_hash") and not _session_hash_verifies(user, session.get(HASH_SESSION_KEY)):
                session.flush()
                user = None
    return user or AnonymousUser()


def scope_user(scope: Mapping[str, Any]) -> User | AnonymousUser:
    """The connection's user, as resolved by ``LiveAuthMiddleware``: Channels' lazy wrapper
    (typed by the stubs as the wrapper) stands for a ``User`` or an ``AnonymousUser``."""
    user = scope.get("user")
    return user if isinstance(user, User) else AnonymousUser()


class LiveAuthMiddleware(AuthMiddleware):
    async def resolve_scope(self, scope: Mapping[str, Any]) -> None:
        scope["user"]._wrapped = await database_sync_to_async(live_user, thread_sensitive=False)(scope)


def LiveAuthMiddlewareStack(inner: Any) -> Any:  # noqa: N802 (named like Channels' AuthMiddlewareStack)
    return CookieMiddleware(SessionMiddleware(LiveAuthMiddleware(inner)))
