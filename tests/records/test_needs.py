"""The needs list (需求清单): submit, support once, merge duplicates, turn into a session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from agora.infra.errors import NotAllowed, Refused
from agora.roster.models import Building
from records import services
from records.models import NeedStatus, NeedSupport
from sessions.models import SessionState

pytestmark = pytest.mark.django_db


@pytest.fixture
def need(world):  # type: ignore[no-untyped-def]
    building = Building.objects.get(community=world.community, name="1号楼")
    return services.need_submit(
        community=world.community,
        by=world.resident,
        text="晚上<b>停车</b>难，能否开放学校操场？",
        category="parking",
        building_id=building.pk,
    )


def test_residents_submit_needs_cleaned(world, need) -> None:  # type: ignore[no-untyped-def]
    assert need.text == "晚上停车难，能否开放学校操场？" and need.building.name == "1号楼"
    with pytest.raises(NotAllowed):
        services.need_submit(community=world.community, by=world.other_resident, text="x")
    with pytest.raises(Refused):
        services.need_submit(community=world.community, by=world.resident2, text="   ")
    other_building = Building.objects.filter(community=world.other_community).first()
    with pytest.raises(Refused):
        services.need_submit(community=world.community, by=world.resident2, text="x", building_id=other_building.pk)


def test_one_support_each(world, need) -> None:  # type: ignore[no-untyped-def]
    assert services.need_support(need=need, user=world.resident2) == 1
    assert services.need_support(need=need, user=world.resident2) == 1
    assert services.need_support(need=need, user=world.outsider) == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        NeedSupport.objects.create(need=need, user=world.outsider)
    with pytest.raises(Refused):
        services.need_support(need=need, user=world.resident)  # the author
    with pytest.raises(NotAllowed):
        services.need_support(need=need, user=world.other_resident)
    assert services.need_support(need=need, user=world.outsider, supporting=False) == 1


def test_merge_moves_author_and_supporters_to_the_target(world, need) -> None:  # type: ignore[no-untyped-def]
    duplicate = services.need_submit(community=world.community, by=world.resident2, text="车太多停不下")
    services.need_support(need=duplicate, user=world.outsider)
    services.need_support(need=need, user=world.outsider)
    with pytest.raises(NotAllowed):
        services.need_merge(need=duplicate, into=need, by=world.resident)
    services.need_merge(need=duplicate, into=need, by=world.moderator)
    duplicate.refresh_from_db()
    assert duplicate.status == NeedStatus.MERGED and duplicate.merged_into_id == need.pk
    assert set(NeedSupport.objects.filter(need=need).values_list("user_id", flat=True)) == {world.resident2.pk, world.outsider.pk}
    with pytest.raises(Refused):
        services.need_merge(need=duplicate, into=need, by=world.moderator)
    with pytest.raises(Refused):
        services.need_merge(need=need, into=duplicate, by=world.moderator)


def test_turning_a_need_into_a_session_keeps_the_link_for_supporters(world, need) -> None:  # type: ignore[no-untyped-def]
    services.need_support(need=need, user=world.resident2)
    duplicate = services.need_submit(community=world.community, by=world.outsider, text="停车难")
    services.need_merge(need=duplicate, into=need, by=world.moderator)
    starts = timezone.now() + timedelta(days=7)
    with pytest.raises(NotAllowed):
        services.need_to_session(need=need, by=world.resident, title="x", starts_at=starts)
    session = services.need_to_session(need=need, by=world.moderator, title="夜间停车专场", starts_at=starts)
    need.refresh_from_db()
    assert need.status == NeedStatus.IN_SESSION and need.session_id == session.pk
    assert session.state == SessionState.DRAFT and session.category == "parking" and session.title == "夜间停车专场"
    with pytest.raises(Refused):
        services.need_to_session(need=need, by=world.moderator, title="again", starts_at=starts)
    client = Client()
    client.force_login(world.resident2)
    page = client.get(f"/needs/{need.pk}/").content.decode()
    assert "这条需求已转为议事专场" in page and "夜间停车专场" in page
    page = client.get(f"/needs/{duplicate.pk}/").content.decode()
    assert "该需求已转为议事专场" in page and "夜间停车专场" in page
    listing = client.get(f"/needs/c/{world.community.slug}/?status=in_session").content.decode()
    assert "夜间停车专场" in listing


def test_needs_pages_work_without_javascript(world) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    assert client.get("/needs/").status_code == 302  # login first
    client.force_login(world.resident)
    response = client.post(f"/needs/c/{world.community.slug}/", {"text": "楼道灯坏了", "category": "safety", "building": ""}, follow=True)
    assert "楼道灯坏了" in response.content.decode() and "谢谢" in response.content.decode()
    need_id = response.redirect_chain[-1][0].rstrip("/").split("/")[-1]
    client.force_login(world.resident2)
    response = client.post(f"/needs/{need_id}/support/", {"support": "1"}, follow=True)
    assert "1 位邻居附议" in response.content.decode()
    client.force_login(world.other_resident)
    assert client.get(f"/needs/{need_id}/").status_code == 404
    assert client.get(f"/needs/c/{world.community.slug}/").status_code == 404


def test_a_resident_adding_needs_faster_than_the_limit_is_refused_in_words_and_keeps_the_text(world) -> None:  # type: ignore[no-untyped-def]
    from records.models import Need

    client = Client()
    client.force_login(world.resident)
    url = f"/needs/c/{world.community.slug}/"
    for i in range(services.NEEDS_PER_HOUR):
        assert client.post(url, {"text": f"第{i}个问题", "category": "other"}).status_code == 302
    typed = "楼道灯坏了三天，晚上看不见台阶"
    response = client.post(url, {"text": typed, "category": "other"})
    page = response.content.decode()
    assert response.status_code == 429
    assert "最近一小时内您已经提交了 5 条需求" in page
    assert typed in page  # still in the text box, to send later
    assert page.count("最近一小时内您已经提交了") == 1  # said once, above the form
    assert Need.objects.filter(author=world.resident).count() == services.NEEDS_PER_HOUR
    # An hour later there is room again; a neighbour was never held back.
    Need.objects.filter(author=world.resident).update(created_at=timezone.now() - timedelta(hours=1, minutes=1))
    assert client.post(url, {"text": typed, "category": "other"}).status_code == 302
    services.need_submit(community=world.community, by=world.resident2, text="邻居的需求")


def test_a_need_longer_than_the_limit_is_refused_in_words_and_keeps_the_text(world) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(world.resident)
    typed = "停" * (services.NEED_MAX + 1)
    response = client.post(f"/needs/c/{world.community.slug}/", {"text": typed, "category": "other"})
    page = response.content.decode()
    assert response.status_code == 200 and "1000" in page and typed in page
    with pytest.raises(Refused, match="1000"):
        services.need_submit(community=world.community, by=world.resident, text=typed)
