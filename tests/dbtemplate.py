"""One migrated test database per pass, cloned for each pytest-xdist worker.

Without this every worker migrated its own test database from nothing, all at the same time
(four migrations at once on two cores when `make test` runs both passes). Now the first worker
of a run to need a database migrates a template (``test_<db>_template`` on PostgreSQL,
``<file>-template.sqlite3`` on SQLite) while the other waits on a file lock; then each worker
copies it: PostgreSQL's ``CREATE DATABASE … TEMPLATE``, SQLite's backup API (which copies what
is still in the template's write-ahead log too). The template is rebuilt on every run (a stamp
holds the run's id, so a template from an earlier run, or from other migrations, is never used)
and dropped by the xdist controller at the end. A worker's database is the one it always had
(``test_<db>_gw0``, ``<file>-gw0.sqlite3``), migrated by exactly the same migrations.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

ALIAS = "default"
# Where tests/conftest.py keeps the template's name in the database's TEST settings (Django ignores the key).
TEMPLATE_KEY = "AGORA_TEMPLATE"


def template_name(test_name: str, vendor: str) -> str:
    """The template's name beside the per-worker names (``test_x`` → ``test_x_template``)."""
    if vendor == "sqlite":
        path = Path(test_name)
        return str(path.with_name(f"{path.stem}-template{path.suffix}"))
    return f"{test_name}_template"


def _lock_path(template: str) -> Path:
    key = hashlib.sha1(template.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"agora-test-template-{key}.lock"


@contextmanager
def _locked(template: str) -> Iterator[Path]:
    """The template's lock (one process at a time builds or copies it); yields the stamp file."""
    lock = _lock_path(template)
    with lock.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield lock.with_suffix(".run")
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_sqlite(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with suppress(FileNotFoundError):
            os.remove(path + suffix)


def _build_template(connection: Any, template: str, verbosity: int) -> None:
    """Migrate ``template`` from nothing (Django's own test-database creation, clobbering any old one)."""
    test_settings = connection.settings_dict.setdefault("TEST", {})
    worker_name = test_settings.get("NAME")
    original_name = connection.settings_dict["NAME"]
    test_settings["NAME"] = template
    if connection.vendor == "sqlite":
        _remove_sqlite(template)
    try:
        connection.creation.create_test_db(verbosity=verbosity, autoclobber=True, keepdb=False, serialize=False)
    finally:
        test_settings["NAME"] = worker_name
        connection.close()
        if connection.vendor == "postgresql":
            connection.close_pool()
        _set_name(connection, original_name)


def _set_name(connection: Any, name: str) -> None:
    from django.conf import settings

    settings.DATABASES[connection.alias]["NAME"] = name
    connection.settings_dict["NAME"] = name


def _copy(connection: Any, template: str, target: str) -> None:
    if connection.vendor == "sqlite":
        _remove_sqlite(target)
        source = sqlite3.connect(template)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return
    quote = connection.ops.quote_name
    with connection.creation._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {quote(target)}")
        cursor.execute(f"CREATE DATABASE {quote(target)} TEMPLATE {quote(template)}")


def setup_from_template(template: str, run_id: str, verbosity: int, serialized_aliases: set[str]) -> list[tuple[Any, str, bool]]:
    """This worker's test database, copied from the run's ``template`` (built first if this worker
    is the first to come). Returns ``setup_databases``' old config, for ``teardown_databases``."""
    from django.db import connections

    connection = connections[ALIAS]
    target = connection.creation._get_test_db_name()
    original_name = connection.settings_dict["NAME"]
    with _locked(template) as stamp:
        if not stamp.exists() or stamp.read_text() != run_id:
            if verbosity >= 1:
                print(f"Migrating the template test database {template} ...")
            _build_template(connection, template, verbosity)
            stamp.write_text(run_id)
        _copy(connection, template, target)
    _set_name(connection, target)
    if ALIAS in serialized_aliases:
        connection._test_serialized_contents = connection.creation.serialize_db_to_string()
    connection.ensure_connection()
    return [(connection, original_name, True)]


def drop_template() -> None:
    """At the end of the run (the xdist controller, whose test-database name has no worker
    suffix): the template and its stamp go."""
    from django.db import connections

    connection = connections[ALIAS]
    if connection.vendor == "sqlite" and connection.creation.is_in_memory_db(connection.creation._get_test_db_name()):
        return
    template = template_name(connection.creation._get_test_db_name(), connection.vendor)
    with _locked(template) as stamp:
        if not stamp.exists():
            return
        if connection.vendor == "sqlite":
            _remove_sqlite(template)
        else:
            quote = connection.ops.quote_name
            with connection.creation._nodb_cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {quote(template)}")
            connection.close_pool()
        stamp.unlink()
