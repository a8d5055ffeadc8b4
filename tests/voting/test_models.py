"""What the database itself guarantees, whatever code writes to it."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from tests.factories import World
from tests.voting.helpers import open_motion
from voting.models import (
    Ballot,
    Channel,
    InPersonCount,
    Motion,
    Participation,
    Resolution,
)

pytestmark = pytest.mark.django_db


def test_ballot_has_no_voter_no_timestamp_and_a_random_key(world: World) -> None:
    fields = {f.name for f in Ballot._meta.get_fields()}
    assert not fields & {"voter", "user", "resident", "household", "created_at", "at", "updated_at"}
    motion = open_motion(world.session, world.moderator)
    a = Ballot.objects.create(motion=motion, choice=[1], receipt_hash="a" * 64)
    b = Ballot.objects.create(motion=motion, choice=[1], receipt_hash="b" * 64)
    assert a.pk.version == 4 and b.pk.version == 4 and a.pk != b.pk
    assert not Ballot._meta.ordering  # nothing orders ballots by arrival


def test_one_participation_per_unit(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    Participation.objects.create(motion=motion, unit_key="h:1", channel=Channel.ONLINE, voter=world.resident)
    with pytest.raises(IntegrityError), transaction.atomic():
        Participation.objects.create(motion=motion, unit_key="h:1", channel=Channel.IN_PERSON)


def test_one_online_participation_per_voter(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    Participation.objects.create(motion=motion, unit_key="u:1", channel=Channel.ONLINE, voter=world.resident)
    with pytest.raises(IntegrityError), transaction.atomic():
        Participation.objects.create(motion=motion, unit_key="u:2", channel=Channel.ONLINE, voter=world.resident)


def test_receipt_hashes_are_unique(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    Ballot.objects.create(motion=motion, choice=[1], receipt_hash="c" * 64)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ballot.objects.create(motion=motion, choice=[2], receipt_hash="c" * 64)


def test_one_resolution_per_motion(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    Resolution.objects.create(motion=motion, outcome="passed", data={})
    with pytest.raises(IntegrityError), transaction.atomic():
        Resolution.objects.create(motion=motion, outcome="failed", data={})


def test_in_person_counts_are_positive_and_quorum_in_range(world: World) -> None:
    motion = open_motion(world.session, world.moderator)
    with pytest.raises(IntegrityError), transaction.atomic():
        InPersonCount.objects.create(motion=motion, choice=[1], count=0, entered_by=world.moderator)
    with pytest.raises(IntegrityError), transaction.atomic():
        Motion.objects.filter(pk=motion.pk).update(quorum_numerator=4, quorum_denominator=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        Motion.objects.filter(pk=motion.pk).update(state="closed", closed_at=None)
