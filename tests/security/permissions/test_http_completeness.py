"""Every HTTP view has a row in a permission table (issue 7): a new view without one fails here.

The URL resolver is walked for every pattern; each named one outside the ``admin:`` namespace must
appear in one of the tables, and every name a table uses must still exist. Unnamed patterns are
allowed only for static and media files. Every command of the meeting's no-JavaScript form
(``topic_sessions:meeting_action``) has its own row too.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

from sessions.meeting.commands import COMMANDS
from tests.security.permissions import (
    test_agora,
    test_decisions_door,
    test_decisions_pages,
    test_decisions_paper,
    test_decisions_progress,
    test_minutes,
    test_roster,
    test_sessions,
    test_voting,
)

TABLES = {
    "test_sessions": test_sessions.TABLE,
    "test_voting": test_voting.TABLE,
    "test_minutes": test_minutes.TABLE,
    "test_agora": test_agora.TABLE,
    "test_decisions_pages": test_decisions_pages.TABLE,
    "test_decisions_door": test_decisions_door.TABLE,
    "test_decisions_paper": test_decisions_paper.TABLE,
    "test_decisions_progress": test_decisions_progress.TABLE,
    "test_roster": test_roster.TABLE,
}
EXCLUDED_NAMESPACES = ("admin:",)
STATIC_VIEWS = ("django.views.static", "django.contrib.staticfiles.views")


def _patterns(resolver: URLResolver, namespace: str = "") -> Iterator[tuple[str, str | None, URLPattern]]:
    """(namespace, full name or None, pattern) for every pattern under ``resolver``."""
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, f"{namespace}{entry.namespace}:" if entry.namespace else namespace)
        else:
            yield namespace, (f"{namespace}{entry.name}" if entry.name else None), entry


def _tabled_names() -> set[str]:
    return {name for table in TABLES.values() for name, _method in table}


def test_every_named_url_has_a_permission_row() -> None:
    names = {name for _, name, _ in _patterns(get_resolver()) if name and not name.startswith(EXCLUDED_NAMESPACES)}
    assert len(names) > 40  # the walk reaches the included apps
    missing = sorted(names - _tabled_names())
    assert not missing, f"views without a row in a permission table (tests/security/permissions): {missing}"


def test_every_url_pattern_is_named_or_static() -> None:
    unnamed = [
        f"{pattern.pattern} -> {pattern.lookup_str}"
        for namespace, name, pattern in _patterns(get_resolver())
        if name is None and not namespace.startswith(EXCLUDED_NAMESPACES) and not pattern.lookup_str.startswith(STATIC_VIEWS)
    ]
    assert not unnamed, f"unnamed URL patterns cannot be checked against the tables: {unnamed}"


def test_every_row_names_a_url_that_exists() -> None:
    every = {name for _, name, _ in _patterns(get_resolver()) if name}
    stale = sorted(_tabled_names() - every)
    assert not stale, f"rows for URL names that no longer exist: {stale}"


def test_every_meeting_command_has_a_row() -> None:
    rows = {method.partition(":")[2] for name, method in test_sessions.TABLE if name == "topic_sessions:meeting_action"}
    missing = sorted(set(COMMANDS) - rows)
    assert not missing, f"meeting commands without a row in test_sessions.TABLE: {missing}"
    assert not rows - set(COMMANDS), f"rows for commands that no longer exist: {sorted(rows - set(COMMANDS))}"


def test_every_row_names_get_or_post() -> None:
    for module, table in TABLES.items():
        for name, method in table:
            assert method.partition(":")[0] in {"get", "post"}, (module, name, method)
