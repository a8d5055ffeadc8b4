"""Plain factories for test data: one call builds a community with every role in it."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.utils import timezone

from agora.roster.models import (
    Building,
    Community,
    Household,
    Membership,
    Resident,
    Role,
    Tag,
    Tenure,
)
from sessions.models import SessionState, TopicSession

PASSWORD = "agora-test-pw"
_n = itertools.count(1)


def user_make(username: str | None = None, name: str = "") -> User:
    User = get_user_model()
    username = username or f"user{next(_n)}"
    user = User(username=username, first_name=name or username)
    user.set_password(PASSWORD)
    user.save()
    return user


def community_make(slug: str | None = None) -> Community:
    slug = slug or f"c{next(_n)}"
    return Community.objects.create(slug=slug, name=f"社区{slug}")


def household_make(
    community: Community, building: str = "1号楼", room: str | None = None, area: str = "80.00", owner_key: str | None = None
) -> Household:
    b, _ = Building.objects.get_or_create(community=community, name=building)
    room = room or str(100 + next(_n))
    return Household.objects.create(
        building=b, unit="1", room=room, exclusive_area=Decimal(area), owner_key=owner_key or f"O{room}{next(_n)}"
    )


def resident_make(
    community: Community,
    username: str | None = None,
    tags: Sequence[Tag] = (),
    tenure: str = Tenure.OWNER,
    building: str = "1号楼",
    household: Household | None = None,
) -> User:
    user = user_make(username)
    household = household or household_make(community, building=building)
    r = Resident.objects.create(user=user, community=community, household=household, tenure=tenure, verified=True)
    r.tags.set(list(tags))
    return user


def staff_make(community: Community, role: str, username: str | None = None) -> User:
    user = user_make(username)
    Membership.objects.create(user=user, community=community, role=role)
    return user


def session_make(
    community: Community,
    by: User,
    state: str = SessionState.LIVE,
    audience: Sequence[Tag] = (),
    title: str = "新增停车位如何分配",
    observers: Sequence[User] = (),
) -> TopicSession:
    s = TopicSession.objects.create(
        community=community,
        created_by=by,
        title=title,
        category="parking",
        starts_at=timezone.now() + timedelta(hours=1),
        state=state,
    )
    s.audience_tags.set(list(audience))
    s.observers.set(list(observers))
    return s


@dataclass
class World:
    community: Community
    other_community: Community
    car_owner: Tag
    moderator: User
    observer: User
    resident: User  # car owner, in the audience
    resident2: User  # car owner, in the audience, another building
    outsider: User  # resident of the community without the tag
    other_resident: User  # resident of another community
    other_moderator: User
    session: TopicSession  # live, audience: car owners, observer invited


def make_world() -> World:
    car, _ = Tag.objects.get_or_create(slug="car_owner", defaults={"name_zh": "车主", "name_en": "Car owner"})
    c = community_make("gyl")
    other = community_make("fjl")
    moderator = staff_make(c, Role.MODERATOR, "mod")
    observer = staff_make(c, Role.OBSERVER, "obs")
    resident = resident_make(c, "res1", tags=[car], building="1号楼")
    resident2 = resident_make(c, "res2", tags=[car], building="2号楼")
    outsider = resident_make(c, "res3", tags=[], building="3号楼")
    other_resident = resident_make(other, "far1", tags=[car])
    other_moderator = staff_make(other, Role.MODERATOR, "farmod")
    session = session_make(c, moderator, audience=[car], observers=[observer])
    return World(c, other, car, moderator, observer, resident, resident2, outsider, other_resident, other_moderator, session)


def every_kind_of_person(world: World) -> dict[str, User | AnonymousUser]:
    """One of each kind of person the visibility and admission rules tell apart, by name: for
    tests that check two implementations of a rule agree for everyone."""
    admin = user_make("district")
    admin.is_superuser = True
    admin.save()
    return {
        "moderator": world.moderator,
        "observer": world.observer,
        "resident": world.resident,
        "resident2": world.resident2,
        "outsider": world.outsider,
        "other_resident": world.other_resident,
        "other_moderator": world.other_moderator,
        "district admin": admin,
        "stranger": user_make("stranger"),
        "anonymous": AnonymousUser(),
    }
