"""Who may read a minutes record: the predicate (``records.rules.can_read_minutes``, one record)
and the queryset filter beside it (``readable_records``: the archive, its facets) agree on
every kind of person, for public and members-only records of two communities."""

from __future__ import annotations

import pytest

from records import rules
from records.models import MinutesRecord, Visibility
from tests.factories import World
from tests.records.helpers import published
from tests.rules_people import every_kind_of_person

pytestmark = pytest.mark.django_db

# Members-only minutes of the session's community: who reads them.
MEMBERS = {
    "owner",
    "owner2",
    "tenant",
    "household member",
    "resident outside the audience",
    "unverified",
    "no floor area",
    "invited observer",
    "observer resident",
    "grid worker",
    "invited grid worker",
    "grid worker resident",
    "moderator",
    "moderator resident",
    "district admin",
    "muted resident",
    "removed resident",
}


def test_the_record_and_the_archive_agree_on_everyone(world: World) -> None:
    records = [
        published(world, visibility=Visibility.PUBLIC),
        published(world, visibility=Visibility.MEMBERS, title="内部"),
        published(world, visibility=Visibility.PUBLIC, community=world.other_community, moderator=world.other_moderator, title="邻居"),
        published(world, visibility=Visibility.MEMBERS, community=world.other_community, moderator=world.other_moderator, title="邻居内部"),
    ]
    people = every_kind_of_person(world)
    members_only = records[1]
    for name, user in people.items():
        listed = set(rules.readable_records(user=user).values_list("pk", flat=True))
        for record in MinutesRecord.objects.filter(pk__in=[r.pk for r in records]):
            assert rules.can_read_minutes(user=user, record=record) == (record.pk in listed), (name, record.title, record.visibility)
        assert (members_only.pk in listed) == (name in MEMBERS), name
        assert records[0].pk in listed and records[2].pk in listed, name  # public: everyone


def test_the_rule_over_its_facts() -> None:
    assert rules.reads_minutes(visibility=Visibility.PUBLIC, member=False)
    assert rules.reads_minutes(visibility=Visibility.MEMBERS, member=True)
    assert not rules.reads_minutes(visibility=Visibility.MEMBERS, member=False)
