"""Roster changes are audited (who, when, before, after) whichever path makes them, and a change
made while a vote is open is shown on that motion's result (agora/roster/changes.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agora.roster.audit import roster_changes_during
from agora.roster.importer import roster_import
from agora.roster.models import AuditEvent, Household, Resident, Tag, Tenure
from tests.factories import World, household_make, resident_make
from tests.voting.helpers import open_motion, vote
from voting import services
from voting.models import Eligibility, Motion

pytestmark = pytest.mark.django_db


def admin_client(user: Any) -> Client:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client(REMOTE_ADDR="10.1.2.3")
    client.force_login(user)
    return client


def resident_form(resident: Resident, **changes: Any) -> dict[str, Any]:
    data = {
        "user": resident.user_id,
        "household": resident.household_id,
        "community": resident.community_id,
        "tenure": resident.tenure,
        "tags": [t.pk for t in resident.tags.all()],
        "verified": "on" if resident.verified else "",
        "phone": resident.phone,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def admin_change_resident(client: Client, resident: Resident, **changes: Any) -> None:
    url = reverse("admin:agora_resident_change", args=[resident.pk])
    response = client.post(url, resident_form(resident, **changes))
    assert response.status_code == 302, response.content.decode()[:3000]


def events(kind: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(kind=kind).order_by("at", "pk"))


def test_a_moderators_admin_changes_of_tenure_tags_and_household_are_audited(world: World) -> None:
    client = admin_client(world.moderator)
    tenant = Resident.objects.get(user=world.outsider)
    tenant.tenure = Tenure.TENANT
    tenant.save()
    elderly, _ = Tag.objects.get_or_create(slug="elderly", defaults={"name_zh": "老年人", "name_en": "Elderly"})
    new_home = household_make(world.community, building="5号楼", room="502")
    old_home = str(tenant.household)
    AuditEvent.objects.all().delete()

    admin_change_resident(client, tenant, tenure=Tenure.OWNER, tags=[world.car_owner.pk, elderly.pk], household=new_home.pk)

    tenure = events("roster.tenure")
    assert [(e.detail["before"], e.detail["after"], e.actor_id, e.detail["via"]) for e in tenure] == [
        ("tenant", "owner", world.moderator.pk, "admin")
    ]
    assert tenure[0].community_id == world.community.pk and tenure[0].ip_address == "10.1.2.3"
    assert tenure[0].detail["resident"] == "res3"
    tags = events("roster.tags")
    assert [(e.detail["before"], e.detail["after"], e.actor_id) for e in tags] == [([], ["car_owner", "elderly"], world.moderator.pk)]
    moved = events("roster.household")
    assert [(e.detail["before"], e.detail["after"], e.actor_id) for e in moved] == [(old_home, str(new_home), world.moderator.pk)]

    # Set back: audited too, so a tenant made owner for one vote leaves both rows.
    tenant.refresh_from_db()
    admin_change_resident(client, tenant, tenure=Tenure.TENANT, tags=[world.car_owner.pk])
    assert [(e.detail["before"], e.detail["after"]) for e in events("roster.tenure")] == [("tenant", "owner"), ("owner", "tenant")]
    assert [e.detail["after"] for e in events("roster.tags")] == [["car_owner", "elderly"], ["car_owner"]]
    # Saving without a change records nothing.
    tenant.refresh_from_db()
    before = AuditEvent.objects.count()
    admin_change_resident(client, tenant)
    assert AuditEvent.objects.count() == before


def test_a_moderators_admin_changes_of_area_and_owner_are_audited(world: World) -> None:
    client = admin_client(world.moderator)
    home = Resident.objects.get(user=world.resident).household
    AuditEvent.objects.all().delete()
    url = reverse("admin:agora_household_change", args=[home.pk])
    response = client.post(
        url, {"building": home.building_id, "unit": home.unit, "room": home.room, "exclusive_area": "120.00", "owner_key": "O-NEW"}
    )
    assert response.status_code == 302
    (area,) = events("roster.area")
    assert (area.detail["before"], area.detail["after"], area.actor_id, area.detail["household"]) == (
        "80.00",
        "120.00",
        world.moderator.pk,
        str(home),
    )
    (owner,) = events("roster.owner")
    assert owner.detail["after"] == "O-NEW" and owner.actor_id == world.moderator.pk


def test_the_moderator_reads_roster_changes_in_the_security_log(world: World) -> None:
    client = admin_client(world.moderator)
    tenant = Resident.objects.get(user=world.outsider)
    admin_change_resident(client, tenant, tenure=Tenure.TENANT)
    client.cookies["django_language"] = "en"
    page = client.get(reverse("audit_log", kwargs={"community_slug": world.community.slug})).content.decode()
    assert "Tenure changed" in page and "After: Tenant" in page and "Before: Owner" in page


def test_roster_import_changes_are_audited_as_the_import(world: World) -> None:
    text = "building,unit,room,area,owner_key,username,full_name,tenure,tags,verified,grid\n1号楼,1,901,66,O-9,newbie,新人,tenant,,yes,\n"
    roster_import(community=world.community, text=text)
    roster_import(community=world.community, text=text.replace("newbie,新人,tenant", "newbie,新人,owner").replace(",66,", ",67,"))
    (tenure,) = events("roster.tenure")
    assert (tenure.detail["before"], tenure.detail["after"], tenure.detail["via"]) == ("tenant", "owner", "import_roster")
    (area,) = events("roster.area")
    assert (area.detail["before"], area.detail["after"]) == ("66.00", "67.00")
    assert events("roster.household")[-1].detail["after"] == "1号楼-1-901"  # newbie joined the household


def owners_vote(world: World) -> Motion:
    return open_motion(world.session, world.moderator, eligibility=Eligibility.OWNERS)


def result_page(user: Any, motion: Motion, language: str) -> str:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    response = client.get(reverse("voting:results", kwargs={"session_id": motion.session_id, "motion_id": motion.pk}))
    assert response.status_code == 200
    return response.content.decode()


def test_a_tenant_made_owner_during_an_owners_vote_shows_on_the_result_zh_and_en(world: World) -> None:
    tenant_user = resident_make(world.community, "tenant9", tags=[world.car_owner], tenure=Tenure.TENANT)
    tenant = Resident.objects.get(user=tenant_user)
    motion = owners_vote(world)
    client = admin_client(world.moderator)
    admin_change_resident(client, tenant, tenure=Tenure.OWNER)
    vote(motion, tenant_user, "yes")
    tenant.refresh_from_db()
    admin_change_resident(client, tenant, tenure=Tenure.TENANT)
    services.motion_close(motion=motion, by=world.moderator)

    zh = result_page(world.resident, motion, "zh-hans")
    assert "表决进行期间的名册变更" in zh and "本社区名册被修改了 2 次" in zh
    assert zh.count("业主/租户身份变更") == 2 and str(tenant.household) in zh
    en = result_page(world.resident, motion, "en")
    assert "Roster changes while this vote was open" in en and "changed 2 times while voting was open" in en
    assert en.count("Tenure changed") == 2 and "Tenant" in en and "Owner" in en
    assert "tenant9" not in en  # the household is shown, not the resident's name


def test_changes_before_the_vote_or_in_another_community_are_not_on_its_result(world: World) -> None:
    client = admin_client(world.moderator)
    admin_change_resident(client, Resident.objects.get(user=world.outsider), tenure=Tenure.TENANT)
    motion = owners_vote(world)
    far = Resident.objects.get(user=world.other_resident)
    far.tenure = Tenure.TENANT
    far.save()
    page = result_page(world.resident, motion, "en")
    assert "Roster changes while this vote was open" not in page
    assert not roster_changes_during(community=world.community, start=motion.opened_at)
    assert roster_changes_during(community=world.other_community, start=motion.opened_at).count() == 1
    # While it is open, a change shows at once.
    Household.objects.filter(pk=Resident.objects.get(user=world.resident).household_id).first().save()  # no change: nothing
    home = Resident.objects.get(user=world.resident).household
    home.exclusive_area = home.exclusive_area + 1
    home.save()
    page = result_page(world.resident, motion, "en")
    assert "Floor area changed" in page and "81.00 m²" in page
    assert roster_changes_during(community=world.community, start=motion.opened_at, end=timezone.now() - timedelta(days=1)).count() == 0


def test_swapping_a_tag_in_the_admin_is_one_audit_row(world: World) -> None:
    client = admin_client(world.moderator)
    elderly, _ = Tag.objects.get_or_create(slug="elderly", defaults={"name_zh": "老年人", "name_en": "Elderly"})
    resident = Resident.objects.get(user=world.resident)  # a car owner
    AuditEvent.objects.all().delete()
    admin_change_resident(client, resident, tags=[elderly.pk])
    assert [(e.detail["before"], e.detail["after"], e.actor_id) for e in events("roster.tags")] == [
        (["car_owner"], ["elderly"], world.moderator.pk)
    ]


@pytest.mark.django_db(transaction=True)
def test_a_community_can_still_be_deleted_and_its_removals_stay_for_the_district(tx_world: World) -> None:
    """Its residents' removal is audited while the community's own log is being deleted with it:
    those rows are filed under no community, not a foreign key to a deleted row."""
    from agora.roster.models import Community

    tx_world.other_community.delete()
    assert not Community.objects.filter(slug="fjl").exists()
    removed = AuditEvent.objects.filter(kind="roster.household", community=None, detail__resident="far1")
    assert removed.count() == 1 and removed.get().detail["after"] == ""
    assert AuditEvent.objects.filter(kind="role.revoked", community=None, detail__username="far1").exists()
