"""Grid workers (网格员): a moderator assigns their grids in the admin (grids of the same community
only, and only to a grid worker); their buildings are their grids' buildings; the door pages
follow at once."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from agora.roster.models import Building, Grid, Membership, Role
from tests.voting.decisions.helpers import DecisionWorld, open_decision
from voting.decisions.door import selectors
from voting.decisions.rules import decision_facts

pytestmark = pytest.mark.django_db


def admin_client(user) -> Client:  # type: ignore[no-untyped-def]
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def form(membership: Membership, grids: list[Grid], role: str = Role.GRID_WORKER) -> dict[str, object]:
    return {"user": membership.user_id, "community": membership.community_id, "role": role, "title": "", "grids": [g.pk for g in grids]}


def test_a_moderator_assigns_a_grid_to_a_grid_worker_and_their_door_list_follows(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    second = Grid.objects.create(community=dw.community, name="第二网格")
    Building.objects.filter(community=dw.community, name="2号楼").update(grid=second)
    membership = Membership.objects.get(user=dw.grid_worker, community=dw.community)
    client = admin_client(dw.moderator)
    url = reverse("admin:agora_membership_change", args=[membership.pk])
    page = client.get(url).content.decode()
    assert "第二网格" in page
    response = client.post(url, form(membership, [membership.grids.get(), second]))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert set(membership.grids.values_list("name", flat=True)) == {"第一网格", "第二网格"}
    buildings = selectors.door_buildings(d, decision_facts(user=dw.grid_worker, decision=d))
    assert [b.name for b in buildings] == ["1号楼", "2号楼"]
    listing = client.get(reverse("admin:agora_membership_changelist")).content.decode()
    assert "第一网格、第二网格" in listing


def test_grids_of_another_community_or_for_another_role_are_refused(dw: DecisionWorld) -> None:
    membership = Membership.objects.get(user=dw.grid_worker, community=dw.community)
    theirs = Grid.objects.create(community=dw.outsider.residencies.get().community, name="别处网格")
    client = admin_client(dw.moderator)
    url = reverse("admin:agora_membership_change", args=[membership.pk])
    assert "别处网格" not in client.get(url).content.decode()  # not even offered
    refused = client.post(url, form(membership, [theirs]))
    assert refused.status_code == 200 and "grids" in refused.context["adminform"].form.errors
    mine = Grid.objects.get(community=dw.community, name="第一网格")
    as_moderator = client.post(url, form(membership, [mine], role=Role.MODERATOR))
    assert as_moderator.status_code == 200
    assert "Only a grid worker has grids." in as_moderator.content.decode()
    membership.refresh_from_db()
    assert membership.role == Role.GRID_WORKER and list(membership.grids.all()) == [mine]
