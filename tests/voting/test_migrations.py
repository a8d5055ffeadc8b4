"""Migration 0003 keeps every quorum: a whole percentage becomes the same fraction; going back
rounds up (a quorum is never lowered)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import make_world
from tests.voting.helpers import open_motion
from voting.models import Motion

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("voting", "0002_sealed_ballots")


def _migrate(target: tuple[str, str] | None) -> MigrationExecutor:
    """To ``target``, or (None) to the latest of every app, as the other tests expect."""
    executor = MigrationExecutor(connection)
    executor.migrate([target] if target else executor.loader.graph.leaf_nodes())
    return MigrationExecutor(connection)


def test_quorums_survive_the_move_to_fractions_and_back() -> None:
    world = make_world()
    two_thirds = open_motion(world.session, world.moderator, quorum=Fraction(2, 3)).pk
    half = open_motion(world.session, world.moderator, quorum_percent=50).pk
    none = open_motion(world.session, world.moderator).pk
    try:
        executor = _migrate(BEFORE)
        old = executor.loader.project_state([BEFORE]).apps.get_model("voting", "Motion")
        assert dict(old.objects.values_list("pk", "quorum_percent")) == {two_thirds: 67, half: 50, none: None}
        old.objects.filter(pk=none).update(quorum_percent=35)
    finally:
        _migrate(None)
    assert {m.pk: m.quorum for m in Motion.objects.all()} == {two_thirds: Fraction(67, 100), half: Fraction(1, 2), none: Fraction(7, 20)}
