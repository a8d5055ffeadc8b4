"""Shared fixtures: a small community with every role, and a real daphne server."""

from __future__ import annotations

import os

# Fast password hashing for the test process and every daphne it starts (read by settings).
os.environ.setdefault("AGORA_PASSWORD_HASHERS", "md5")
# No persistent database connections in tests: a connection kept by an async worker thread
# would stop the test database from being dropped at the end of the run.
os.environ.setdefault("AGORA_DB_CONN_MAX_AGE", "0")
# The PostgreSQL pool keeps one connection per process, not one per worker thread: many test
# processes and daphnes share one server of 100 connections (docs/deployment.md).
os.environ.setdefault("AGORA_DB_POOL_MIN_SIZE", "1")
# Test databases need no durability against a crash of PostgreSQL itself: a commit does not wait
# for its WAL to reach the disk (libpq reads PGOPTIONS, here and in every daphne started). What
# other connections see is unchanged; SQLite's synchronous=NORMAL (settings) is the same trade.
os.environ.setdefault("PGOPTIONS", "-c synchronous_commit=off")

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test.utils import override_settings

from tests.dbtemplate import TEMPLATE_KEY, drop_template, setup_from_template, template_name
from tests.factories import World, make_world
from tests.servers import DaphneServer, fail_if_service_missing, services_required

# Pages rendered in this process link static files by their plain names, so the tests need no
# collectstatic (the settings were read before this file: pytest-django loads them first). The
# servers tests start use the hashed names, as production does (tests/servers.py).
override_settings(
    STORAGES={**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}},
    WHITENOISE_USE_FINDERS=True,
).enable()


def _close_old_connections_off_the_main_thread() -> None:
    """What Channels' test communicator runs instead of ``close_old_connections``.

    Channels' ``ApplicationCommunicator`` replaces it with a no-op (``channels.testing.application.no_op``)
    so a test's own transaction on the main thread is not closed under it. With the PostgreSQL
    pool that no-op kept every worker thread's connection out of the pool after the thread
    ended: ten leaked slots later, every database call waited 10 s and failed
    (``couldn't get a connection``). Worker threads close as under daphne; the main thread, which
    may hold the test's transaction, is left alone.
    """
    import threading

    from django.db import close_old_connections

    if threading.current_thread() is not threading.main_thread():
        close_old_connections()


def _patch_channels_communicator() -> None:
    import channels.testing.application

    channels.testing.application.no_op = _close_old_connections_off_the_main_thread  # type: ignore[assignment]


_patch_channels_communicator()


def _patch_postgresql_flush() -> None:
    """Empty the test database after a transactional test with DELETE, not TRUNCATE.

    Django's PostgreSQL flush is one ``TRUNCATE`` of every table: each table and each of its
    indexes gets a new file, synced to disk at once (wait event ``DataFileImmediateSync``), about
    3 s per test on this machine's disk against 0.01 s for DELETE of the few rows a test writes.
    The tables end just as empty; every foreign key is DEFERRABLE INITIALLY DEFERRED (Django's),
    so the order does not matter inside the flush's transaction. Sequences are not reset either
    way (``reset_sequences`` and ``allow_cascade`` keep Django's own statement).
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):  # type: ignore[no-untyped-def]
        if reset_sequences or allow_cascade or not tables:
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return ["SET CONSTRAINTS ALL DEFERRED;"] + [
            f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};" for table in tables
        ]

    DatabaseOperations.sql_flush = sql_flush  # type: ignore[method-assign]


_patch_postgresql_flush()

# Under pytest-xdist (make test runs `-n`), each worker is a process of its own: its own test
# database (below) and its own Redis prefix, since every worker's database hands out the same
# ids and so the same group names ("session-1") on the one shared Redis.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if XDIST_WORKER:
    from django.conf import settings as _settings

    _prefix = f"{os.environ.get('AGORA_REDIS_PREFIX', 'agora')}-{XDIST_WORKER}"
    os.environ["AGORA_REDIS_PREFIX"] = _prefix  # daphne subprocesses (tests/servers.py) inherit it
    for _layer in _settings.CHANNEL_LAYERS.values():
        if "prefix" in _layer.get("CONFIG", {}):
            _layer["CONFIG"]["prefix"] = _prefix


@pytest.fixture(scope="session")
def django_db_modify_db_settings_xdist_suffix(request: pytest.FixtureRequest) -> None:
    """One test database per xdist worker: ``test_<name>_gw0`` on PostgreSQL (pytest-django's own
    naming), ``<file>-gw0.sqlite3`` on SQLite (the suffix before the extension, so the file and its
    -wal/-shm stay git-ignored and next to where AGORA_SQLITE_TEST_PATH points)."""
    from django.conf import settings

    worker = getattr(request.config, "workerinput", {}).get("workerid")
    if not worker:
        return
    for db in settings.DATABASES.values():
        test = db.setdefault("TEST", {})
        if db["ENGINE"] == "django.db.backends.sqlite3":
            if test.get("NAME") and test["NAME"] != ":memory:":
                path = Path(test["NAME"])
                test[TEMPLATE_KEY] = template_name(str(path), "sqlite")
                test["NAME"] = str(path.with_name(f"{path.stem}-{worker}{path.suffix}"))
        else:
            base = test.get("NAME") or "test_" + db["NAME"]
            test[TEMPLATE_KEY] = template_name(base, "postgresql")
            test["NAME"] = f"{base}_{worker}"


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest,
    django_test_environment: None,
    django_db_blocker: Any,
    django_db_use_migrations: bool,
    django_db_keepdb: bool,
    django_db_createdb: bool,
    django_db_modify_db_settings: None,
) -> Iterator[None]:
    """pytest-django's test databases, except that an xdist worker copies its database from the
    pass's migrated template instead of migrating its own (tests/dbtemplate.py). Without xdist,
    with --reuse-db or --nomigrations: pytest-django's own setup, as it does it."""
    from django.conf import settings
    from django.test.utils import setup_databases, teardown_databases
    from pytest_django.fixtures import _disable_migrations, _get_databases_for_setup

    verbosity = request.config.option.verbose
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    template = settings.DATABASES["default"].get("TEST", {}).get(TEMPLATE_KEY)
    run_id = getattr(request.config, "workerinput", {}).get("testrunuid")
    with django_db_blocker.unblock():
        if template and run_id and django_db_use_migrations and not django_db_keepdb and aliases == {"default"}:
            db_cfg = setup_from_template(template, run_id, verbosity, serialized_aliases)
        else:
            if not django_db_use_migrations:
                _disable_migrations()
            db_cfg = setup_databases(
                verbosity=verbosity,
                interactive=False,
                aliases=aliases,
                serialized_aliases=serialized_aliases,
                keepdb=django_db_keepdb and not django_db_createdb,
            )
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock():
            try:
                teardown_databases(db_cfg, verbosity=verbosity)
            except Exception as exc:  # as pytest-django: a database left behind is a warning, not a failed test
                request.node.warn(pytest.PytestWarning(f"Error when trying to teardown test databases: {exc!r}"))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The xdist controller drops the run's template database once every worker has finished."""
    if hasattr(session.config, "workerinput") or not getattr(session.config.option, "numprocesses", None):
        return
    from pytest_django.plugin import blocking_manager_key

    if blocking_manager_key in session.config.stash:
        with session.config.stash[blocking_manager_key].unblock():
            drop_template()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _default_language_for_each_test() -> Iterator[None]:
    """Each test starts in the default language: a test (or a view it ran in this thread) that
    activated English must not make the next one on the same worker read English."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True, scope="session")
def _no_persistent_db_connections() -> None:
    """Settings were read before this file (pytest-django): close worker threads' connections too."""
    from django.db import connections

    connections.settings["default"]["CONN_MAX_AGE"] = 0


@pytest.fixture(autouse=True)
def _no_live_limits_from_an_earlier_test() -> None:
    """The live rate buckets, socket counts and reaction throttles are per process, by user and
    message id: ids come again after a rollback (SQLite), and a test that leaves its sockets
    open would count against the next one."""
    from sessions import consumers, reactions
    from sessions.live import registry
    from sessions.meeting import guesses

    registry.rates_reset()
    consumers.sockets_reset()
    reactions.reactions_reset()
    guesses.join_guesses_reset()


@pytest.fixture
def world(db: None) -> World:
    return make_world()


@pytest.fixture
def tx_world(transactional_db: None) -> World:
    return make_world()


@pytest.fixture
def daphne_server(transactional_db: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaphneServer]:
    """One real daphne process on this test's database (and Redis, when configured)."""
    server = DaphneServer.start(log_dir=tmp_path_factory.mktemp("daphne"))
    try:
        yield server
    finally:
        server.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    services_required(items)
    if os.environ.get("AGORA_TEST_PASS") == "production":
        # make test's second pass: a test whose result the database and channel layer cannot change ran in the first.
        for item in items:
            if item.get_closest_marker("same_on_both_passes") is not None:
                item.add_marker(
                    pytest.mark.skip(reason="same on both passes (marker same_on_both_passes): runs in the embedded pass of make test")
                )
    if hasattr(config, "workerinput"):
        items[:] = slow_modules_first(items)


def _weight(item: pytest.Item) -> int:
    """How long a test is likely to take, from what it uses: a browser (3), committed data, so a
    real server or several threads or processes (2), neither (1); 0 when it will be skipped."""
    if item.get_closest_marker("skip") is not None:
        return 0
    fixtures = set(getattr(item, "fixturenames", ()))
    if "/tests/browser/" in str(item.fspath) or item.get_closest_marker("browser") is not None or fixtures & {"browser", "shared_browser"}:
        return 3
    db = item.get_closest_marker("django_db")
    if fixtures & {"transactional_db", "tx_world", "daphne_server", "live_server"} or (db is not None and db.kwargs.get("transaction")):
        return 2
    return 1


def slow_modules_first(items: list[pytest.Item]) -> list[pytest.Item]:
    """Under xdist: whole modules, those with the slowest kinds of test first (then the most work).

    ``--dist worksteal`` hands each worker a contiguous share of this order and lets an idle one
    take the end of a busy one's queue: with browsers and servers first, the tests left for the
    end are short ones, and no worker sits idle while another finishes a long test. Modules stay
    whole (their module fixtures, a shared Chromium or daphne, are set up once per worker); the
    order inside a module is kept, and so is the order of modules of equal weight. Every worker
    computes the same order (xdist requires it)."""
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(str(item.fspath), []).append(item)

    def key(module: list[pytest.Item]) -> tuple[int, int]:
        weights = [_weight(item) for item in module]
        return (-max(weights), -sum(weights))

    return [item for module in sorted(modules.values(), key=key) for item in module]


def pytest_runtest_setup(item: pytest.Item) -> None:
    fail_if_service_missing(item)
