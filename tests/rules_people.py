"""Every kind of person the rules tell apart, for the tests that check a rule's implementations
agree (tests/*/test_rules_agree.py): residents (owner, tenant, household member, outside the
audience, unverified, without floor area), observers, grid workers (网格员: community staff, an
observer in a session they are invited to, a resident where they live here), moderators,
district admins, non-members, inactive accounts, the muted, the removed and the anonymous."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from agora.roster.models import Membership, Resident, Role, Tenure
from sessions.models import Participant, TopicSession
from tests.factories import World, household_make, resident_make, staff_make, user_make

Person = AbstractBaseUser | AnonymousUser


def _inactive(user: AbstractBaseUser) -> AbstractBaseUser:
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    return get_user_model().objects.get(pk=user.pk)


def every_kind_of_person(world: World) -> dict[str, Person]:
    """By name. The session's removed and muted people are marked with ``mark_participants``."""
    c, car = world.community, world.car_owner
    admin = user_make("district")
    admin.is_superuser = True  # type: ignore[attr-defined]
    admin.save()
    member = resident_make(c, "member1", tags=[car], tenure=Tenure.TENANT, household=Resident.objects.get(user=world.resident).household)
    observer_resident = resident_make(c, "obsres1", tags=[car])
    Membership.objects.create(user=observer_resident, community=c, role=Role.OBSERVER)
    moderator_resident = resident_make(c, "modres1", tags=[car])
    Membership.objects.create(user=moderator_resident, community=c, role=Role.MODERATOR)
    grid_resident = resident_make(c, "gridres1", tags=[car])
    Membership.objects.create(user=grid_resident, community=c, role=Role.GRID_WORKER)
    invited_grid = staff_make(c, Role.GRID_WORKER, "gridinv1")
    world.session.observers.add(invited_grid)
    unverified = resident_make(c, "unverified1", tags=[car])
    Resident.objects.filter(user=unverified).update(verified=False)
    people: dict[str, Person] = {
        "owner": world.resident,
        "owner2": world.resident2,
        "tenant": resident_make(c, "tenant1", tags=[car], tenure=Tenure.TENANT),
        "household member": member,
        "resident outside the audience": world.outsider,
        "unverified": unverified,
        "no floor area": resident_make(c, "noarea1", tags=[car], household=household_make(c, area="0.00")),
        "invited observer": world.observer,
        "observer resident": observer_resident,
        "grid worker": staff_make(c, Role.GRID_WORKER, "grid1"),
        "invited grid worker": invited_grid,
        "grid worker resident": grid_resident,
        "moderator": world.moderator,
        "moderator resident": moderator_resident,
        "district admin": admin,
        "other community's resident": world.other_resident,
        "other community's moderator": world.other_moderator,
        "non-member": user_make("stranger"),
        "inactive resident": _inactive(resident_make(c, "inactive1", tags=[car])),
        "inactive moderator": _inactive(staff_make(c, Role.MODERATOR, "inactivemod")),
        "inactive district admin": None,  # type: ignore[dict-item]
        "muted resident": resident_make(c, "muted1", tags=[car]),
        "removed resident": resident_make(c, "removed1", tags=[car]),
        "removed observer": user_make("removedobs"),
        "anonymous": AnonymousUser(),
    }
    inactive_admin = user_make("inactiveadmin")
    inactive_admin.is_superuser = True  # type: ignore[attr-defined]
    inactive_admin.save()
    people["inactive district admin"] = _inactive(inactive_admin)
    world.session.observers.add(people["removed observer"])
    return people


def mark_participants(session: TopicSession, people: dict[str, Person]) -> None:
    """The muted and the removed of the session (again, after a test cleared them)."""
    Participant.objects.filter(session=session).delete()
    Participant.objects.create(session=session, user=people["muted resident"], muted=True)
    Participant.objects.create(session=session, user=people["removed resident"], removed=True)
    Participant.objects.create(session=session, user=people["removed observer"], removed=True)
