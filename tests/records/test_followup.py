"""Action items (落实事项): who moves them on, public progress, satisfaction, overdue list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from agora.infra.errors import NotAllowed, Refused
from agora.roster.models import Role
from records import services
from records.models import ActionStatus, SatisfactionRating
from records.selectors import (
    overdue_items,
    satisfaction_by_item,
    satisfaction_by_session,
)
from tests.factories import staff_make
from tests.records.helpers import published

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(world):  # type: ignore[no-untyped-def]
    record = published(world)
    return services.action_item_create(
        session=record.session,
        by=world.moderator,
        what="地库划线 40 个车位",
        responsible="物业公司",
        due_on=timezone.localdate() + timedelta(days=30),
    )


def test_only_the_responsible_moderator_changes_the_status(world, item) -> None:  # type: ignore[no-untyped-def]
    colleague = staff_make(world.community, Role.MODERATOR, "mod2")
    for user in (world.resident, world.observer, world.other_moderator, colleague):
        with pytest.raises(NotAllowed):
            services.action_item_update(item=item, by=user, status=ActionStatus.IN_PROGRESS)
    item.refresh_from_db()
    assert item.status == ActionStatus.PENDING
    services.action_item_update(item=item, by=world.moderator, status=ActionStatus.IN_PROGRESS, note="已联系施工队")
    item.refresh_from_db()
    assert item.status == ActionStatus.IN_PROGRESS
    update = item.updates.get()
    assert (update.status_from, update.status_to, update.text) == ("pending", "in_progress", "已联系施工队")


def test_dropping_needs_a_reason_and_transitions_are_checked(world, item) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused):
        services.action_item_update(item=item, by=world.moderator, status=ActionStatus.DROPPED)
    services.action_item_update(item=item, by=world.moderator, status=ActionStatus.DROPPED, drop_reason="规划不允许")
    with pytest.raises(Refused):
        services.action_item_update(item=item, by=world.moderator, status=ActionStatus.DONE)
    with pytest.raises(Refused):
        services.action_item_update(item=item, by=world.moderator)  # neither note nor change


def test_one_rating_per_resident_changeable_only_when_done(world, item) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refused):
        services.satisfaction_rate(item=item, user=world.resident, score=5)
    services.action_item_update(item=item, by=world.moderator, status=ActionStatus.DONE, note="完工")
    item.refresh_from_db()
    services.satisfaction_rate(item=item, user=world.resident, score=2)
    services.satisfaction_rate(item=item, user=world.resident, score=5)
    services.satisfaction_rate(item=item, user=world.resident2, score=3)
    assert SatisfactionRating.objects.filter(item=item).count() == 2
    assert satisfaction_by_item(item_ids=[item.pk])[item.pk] == {"count": 2, "average": 4.0, "percent": 50}
    assert satisfaction_by_session(session_ids=[item.session_id])[item.session_id]["count"] == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        SatisfactionRating.objects.create(item=item, user=world.resident, score=4)
    for user in (world.other_resident, world.moderator, world.observer):
        with pytest.raises(NotAllowed):
            services.satisfaction_rate(item=item, user=user, score=5)
    with pytest.raises(Refused):
        services.satisfaction_rate(item=item, user=world.resident2, score=6)


def test_archive_and_minutes_show_the_satisfaction_rate(world, item) -> None:  # type: ignore[no-untyped-def]
    services.action_item_update(item=item, by=world.moderator, status=ActionStatus.DONE, note="完工")
    item.refresh_from_db()
    services.satisfaction_rate(item=item, user=world.resident, score=5)
    client = Client()
    archive = client.get("/archive/").content.decode()
    assert "满意度 100%（1 人评价，平均 5.0/5 分）" in archive
    record_id = item.session.minutes_records.get().pk
    assert "满意度 100%" in client.get(f"/minutes/{record_id}/").content.decode()


def test_moderators_see_overdue_items_of_their_communities(world, item) -> None:  # type: ignore[no-untyped-def]
    late = services.action_item_create(
        session=item.session, by=world.moderator, what="安装充电桩", responsible="街道", due_on=timezone.localdate() - timedelta(days=3)
    )
    assert list(overdue_items(user=world.moderator)) == [late]
    assert list(overdue_items(user=world.other_moderator)) == []
    assert list(overdue_items(user=world.moderator, today=timezone.localdate() + timedelta(days=31))) == [late, item]
    client = Client()
    client.force_login(world.moderator)
    assert "安装充电桩" in client.get("/minutes/follow-up/").content.decode()
    client.force_login(world.resident)
    assert client.get("/minutes/follow-up/").status_code == 403


def test_status_change_through_the_page_without_javascript(world, item) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(world.resident)
    response = client.post(f"/minutes/action-items/{item.pk}/update/", {"status": "done"})
    assert response.status_code == 403 and "负责" in response.content.decode()
    client.force_login(world.moderator)
    response = client.post(f"/minutes/action-items/{item.pk}/update/", {"status": "done", "note": "已完工"}, follow=True)
    assert "已完工" in response.content.decode()
    item.refresh_from_db()
    assert item.status == ActionStatus.DONE and item.done_at is not None and item.done_at <= timezone.now()
    client.force_login(world.resident)
    response = client.post(f"/minutes/action-items/{item.pk}/rate/", {"score": "4"}, follow=True)
    assert "您评了 4 分" in response.content.decode()


def test_only_moderators_add_action_items(world) -> None:  # type: ignore[no-untyped-def]
    record = published(world)
    with pytest.raises(NotAllowed):
        services.action_item_create(session=record.session, by=world.resident, what="x", responsible="y", due_on=None)
    with pytest.raises(Refused):
        services.action_item_create(
            session=record.session, by=world.moderator, what="x", responsible="y", due_on=None, owner=world.resident
        )
    with pytest.raises(NotAllowed):
        services.action_item_create(session=world.session, by=world.moderator, what="x", responsible="y", due_on=None)  # live
