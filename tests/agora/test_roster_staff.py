"""Grid workers and observers, added and removed by the community's moderator on a page."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from agora.roster.models import AuditEvent, Grid, Membership, Role
from tests.factories import community_make, resident_make, staff_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def community():  # type: ignore[no-untyped-def]
    community = community_make("gyl")
    Grid.objects.create(community=community, name="第1网格")
    Grid.objects.create(community=community, name="第2网格")
    return community


@pytest.fixture
def moderator(community):  # type: ignore[no-untyped-def]
    return staff_make(community, Role.MODERATOR, "mod")


def client_for(user, language: str = "en") -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.cookies["django_language"] = language
    if user is not None:
        client.force_login(user)
    return client


def add(client: Client, community, **fields):  # type: ignore[no-untyped-def]
    grids = [g.pk for g in Grid.objects.filter(community=community, name__in=fields.pop("grids", []))]
    data = {"role": "grid_worker", "full_name": "刘网格", "username": "liu", "title": "", "grids": grids, **fields}
    return client.post(reverse("roster:staff", args=["gyl"]), data, follow=True)


def test_a_moderator_adds_a_grid_worker_with_grids_then_changes_and_removes_them(community, moderator) -> None:  # type: ignore[no-untyped-def]
    client = client_for(moderator)
    page = add(client, community, grids=["第1网格"])
    assert "刘网格 is added" in page.content.decode()
    membership = Membership.objects.get(user__username="liu")
    assert membership.role == Role.GRID_WORKER and [g.name for g in membership.grids.all()] == ["第1网格"]
    assert not membership.user.has_usable_password()
    both = [g.pk for g in Grid.objects.all()]
    client.post(reverse("roster:staff_grids", args=["gyl", membership.pk]), {"grids": both})
    assert membership.grids.count() == 2
    confirm = client.get(reverse("roster:staff_remove", args=["gyl", membership.pk]))
    assert "is no longer Grid worker of this community" in html.unescape(confirm.content.decode())
    assert Membership.objects.filter(pk=membership.pk).exists()  # the GET removed nothing
    client.post(reverse("roster:staff_remove", args=["gyl", membership.pk]), {"confirmed": "1"})
    assert not Membership.objects.filter(pk=membership.pk).exists()
    kinds = set(AuditEvent.objects.filter(actor=moderator).values_list("kind", flat=True))
    assert {"staff.added", "staff.grids", "staff.removed", "role.granted"} <= kinds


def test_an_observer_needs_no_grid_and_a_grid_worker_must_get_one(community, moderator) -> None:  # type: ignore[no-untyped-def]
    client = client_for(moderator)
    missing = add(client, community)
    assert missing.status_code == 400 and "Choose the grids this grid worker covers." in missing.content.decode()
    assert 'value="刘网格"' in missing.content.decode()  # what was typed is kept
    add(client, community, role="observer", full_name="物业王经理", username="wang-wy", title="物业公司")
    assert Membership.objects.get(user__username="wang-wy").role == Role.OBSERVER


def test_another_communitys_account_is_not_taken(community, moderator) -> None:  # type: ignore[no-untyped-def]
    resident_make(community_make("fjl"), "li")
    page = add(client_for(moderator), community, username="li", grids=["第1网格"])
    assert page.status_code == 400
    assert "The login name li is taken by an account outside this community." in page.content.decode()
    assert not Membership.objects.filter(user__username="li").exists()


def test_a_resident_of_this_community_becomes_a_grid_worker_and_keeps_the_household(community, moderator) -> None:  # type: ignore[no-untyped-def]
    zhao = resident_make(community, "zhao")
    add(client_for(moderator), community, username="zhao", full_name="赵", grids=["第2网格"])
    assert Membership.objects.get(user=zhao).role == Role.GRID_WORKER and zhao.residencies.count() == 1


def test_a_moderator_is_not_removed_here(community, moderator) -> None:  # type: ignore[no-untyped-def]
    colleague = staff_make(community, Role.MODERATOR, "mod2")
    membership = Membership.objects.get(user=colleague)
    page = client_for(moderator).post(reverse("roster:staff_remove", args=["gyl", membership.pk]), {"confirmed": "1"}, follow=True)
    assert "Only grid workers and observers are removed here." in page.content.decode()
    assert Membership.objects.filter(pk=membership.pk).exists()


@pytest.mark.parametrize("who", ["resident", "observer", "grid_worker", "other_moderator", "anonymous"])
def test_only_this_communitys_moderators_add_or_remove(community, who) -> None:  # type: ignore[no-untyped-def]
    other = community_make("fjl")
    person = {
        "resident": lambda: resident_make(community),
        "observer": lambda: staff_make(community, Role.OBSERVER),
        "grid_worker": lambda: staff_make(community, Role.GRID_WORKER),
        "other_moderator": lambda: staff_make(other, Role.MODERATOR),
        "anonymous": lambda: None,
    }[who]()
    target = staff_make(community, Role.OBSERVER, "target")
    membership = Membership.objects.get(user=target)
    client = client_for(person)
    expected = 302 if who == "anonymous" else 403
    before = Membership.objects.count()
    assert (
        client.post(reverse("roster:staff", args=["gyl"]), {"role": "observer", "full_name": "X", "username": "x"}).status_code == expected
    )
    assert client.post(reverse("roster:staff_remove", args=["gyl", membership.pk]), {"confirmed": "1"}).status_code == expected
    assert client.post(reverse("roster:staff_grids", args=["gyl", membership.pk]), {"grids": []}).status_code == expected
    assert Membership.objects.count() == before
