"""The admin for moderators (agora/roster/admin_scoping.py): each sees and changes only their own
community; sessions, votes and minutes are read-only there; district admins see everything."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from agora.roster.models import Building, Household, Resident
from tests.factories import World

pytestmark = pytest.mark.django_db


def _admin_client(user) -> Client:  # type: ignore[no-untyped-def]
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    return client


def _household_of(user) -> Household:  # type: ignore[no-untyped-def]
    return Resident.objects.get(user=user).household


def test_a_moderator_lists_only_their_own_communitys_roster(world: World) -> None:
    client = _admin_client(world.moderator)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    page = client.get(reverse("admin:agora_resident_changelist")).content.decode()
    assert world.resident.get_username() in page
    assert world.other_resident.get_username() not in page
    # The community filter names only the moderator's community.
    buildings = client.get(reverse("admin:agora_building_changelist")).content.decode()
    assert world.community.name in buildings and world.other_community.name not in buildings


def test_a_moderator_cannot_open_or_change_another_communitys_household(world: World) -> None:
    client = _admin_client(world.moderator)
    theirs = _household_of(world.other_resident)
    url = reverse("admin:agora_household_change", args=[theirs.pk])
    assert client.get(url).status_code == 302  # "does not exist" → back to the admin index
    response = client.post(url, {"building": theirs.building_id, "unit": "1", "room": "999", "exclusive_area": "1.00", "owner_key": "X"})
    assert response.status_code in (302, 403)
    theirs.refresh_from_db()
    assert theirs.room != "999" and theirs.exclusive_area != Decimal("1.00")


def test_a_moderator_corrects_a_households_area_in_their_community(world: World) -> None:
    client = _admin_client(world.moderator)
    mine = _household_of(world.resident)
    url = reverse("admin:agora_household_change", args=[mine.pk])
    Building.objects.create(community=world.other_community, name="福建路9号楼")
    form = client.get(url).content.decode()
    # Only their own buildings are offered.
    assert "福建路9号楼" not in form and mine.building.name in form
    response = client.post(
        url, {"building": mine.building_id, "unit": mine.unit, "room": mine.room, "exclusive_area": "91.50", "owner_key": mine.owner_key}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    mine.refresh_from_db()
    assert mine.exclusive_area == Decimal("91.50")


def test_a_moderator_cannot_move_a_building_into_another_community(world: World) -> None:
    client = _admin_client(world.moderator)
    building = Building.objects.filter(community=world.community).first()
    assert building is not None
    url = reverse("admin:agora_building_change", args=[building.pk])
    response = client.post(url, {"community": world.other_community.pk, "name": "搬走的楼"})
    assert response.status_code == 200  # the form comes back with an error: not a valid choice
    assert "community" in response.context["adminform"].form.errors
    building.refresh_from_db()
    assert building.community_id == world.community.pk and building.name != "搬走的楼"


def test_sessions_and_votes_are_read_only_for_moderators(world: World) -> None:
    client = _admin_client(world.moderator)
    url = reverse("admin:topic_sessions_topicsession_change", args=[world.session.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"title": "改掉的标题"})
    assert response.status_code == 403
    world.session.refresh_from_db()
    assert world.session.title != "改掉的标题"
    other = client.get(reverse("admin:topic_sessions_topicsession_changelist")).content.decode()
    assert world.session.title in other


def test_another_communitys_session_is_not_shown(world: World) -> None:
    from tests.factories import session_make

    theirs = session_make(world.other_community, world.other_moderator, title="福建路的议题")
    client = _admin_client(world.moderator)
    assert "福建路的议题" not in client.get(reverse("admin:topic_sessions_topicsession_changelist")).content.decode()
    assert client.get(reverse("admin:topic_sessions_topicsession_change", args=[theirs.pk])).status_code == 302


@pytest.mark.parametrize("who", ["resident", "observer"])
def test_staff_who_moderate_nothing_see_no_models(world: World, who: str) -> None:
    client = _admin_client(getattr(world, who))
    assert client.get(reverse("admin:agora_resident_changelist")).status_code == 403
    index = client.get(reverse("admin:index")).content.decode()
    assert "agora/resident" not in index


def test_a_resident_who_is_not_staff_is_sent_to_the_admin_login(world: World) -> None:
    client = Client()
    client.force_login(world.resident)
    response = client.get(reverse("admin:agora_resident_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_district_admin_sees_every_community(world: World) -> None:
    admin_user = get_user_model().objects.create_superuser("district", "d@example.org", "x-very-long-password-1")
    client = Client()
    client.force_login(admin_user)
    page = client.get(reverse("admin:agora_resident_changelist")).content.decode()
    assert world.resident.get_username() in page and world.other_resident.get_username() in page
