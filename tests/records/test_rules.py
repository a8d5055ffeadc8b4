"""Permission predicates of minutes, follow-up and needs — each can say no."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from records import rules, services
from records.models import ActionStatus, NeedStatus, Visibility
from tests.records.helpers import held_session, published

pytestmark = pytest.mark.django_db


def test_can_draft_minutes(world) -> None:  # type: ignore[no-untyped-def]
    assert not rules.can_draft_minutes(user=world.moderator, session=world.session)  # live
    session = held_session(world)
    assert rules.can_draft_minutes(user=world.moderator, session=session)
    for user in (world.resident, world.observer, world.other_moderator, AnonymousUser()):
        assert not rules.can_draft_minutes(user=user, session=session)


def test_can_read_minutes(world) -> None:  # type: ignore[no-untyped-def]
    public = published(world, visibility=Visibility.PUBLIC)
    members = published(world, visibility=Visibility.MEMBERS, title="内部")
    assert rules.can_read_minutes(user=AnonymousUser(), record=public)
    assert not rules.can_read_minutes(user=AnonymousUser(), record=members)
    assert not rules.can_read_minutes(user=world.other_resident, record=members)
    assert not rules.can_read_minutes(user=world.other_moderator, record=members)
    for user in (world.resident, world.outsider, world.observer, world.moderator):
        assert rules.can_read_minutes(user=user, record=members)


def test_can_see_voter_names(world) -> None:  # type: ignore[no-untyped-def]
    """Who voted what (held only by records sealed before version 2) is for members at most."""
    public = published(world, visibility=Visibility.PUBLIC)
    for user in (world.resident, world.outsider, world.observer, world.moderator):
        assert rules.can_see_voter_names(user=user, record=public)
    for user in (AnonymousUser(), world.other_resident, world.other_moderator):
        assert rules.can_read_minutes(user=user, record=public) and not rules.can_see_voter_names(user=user, record=public)


def test_can_correct_and_add_items(world) -> None:  # type: ignore[no-untyped-def]
    record = published(world)
    assert rules.can_correct_minutes(user=world.moderator, record=record)
    assert not rules.can_correct_minutes(user=world.resident, record=record)
    assert not rules.can_correct_minutes(user=world.other_moderator, record=record)
    assert rules.can_add_action_item(user=world.moderator, session=record.session)
    assert not rules.can_add_action_item(user=world.observer, session=record.session)


def test_can_update_and_rate_action_items(world) -> None:  # type: ignore[no-untyped-def]
    record = published(world)
    item = services.action_item_create(session=record.session, by=world.moderator, what="x", responsible="y", due_on=None)
    assert rules.can_update_action_item(user=world.moderator, item=item)
    assert not rules.can_update_action_item(user=world.other_moderator, item=item)
    assert not rules.can_update_action_item(user=AnonymousUser(), item=item)
    assert not rules.can_rate(user=world.resident, item=item)  # not done
    item.status = ActionStatus.DONE
    assert rules.can_rate(user=world.resident, item=item)
    assert not rules.can_rate(user=world.observer, item=item)
    assert not rules.can_rate(user=world.other_resident, item=item)


def test_needs_predicates(world) -> None:  # type: ignore[no-untyped-def]
    cid = world.community.pk
    assert rules.can_submit_need(user=world.resident, community_id=cid)
    assert not rules.can_submit_need(user=world.moderator, community_id=cid)
    assert not rules.can_submit_need(user=world.other_resident, community_id=cid)
    assert rules.can_view_needs(user=world.observer, community_id=cid)
    assert not rules.can_view_needs(user=AnonymousUser(), community_id=cid)
    need = services.need_submit(community=world.community, by=world.resident, text="x")
    assert rules.can_support_need(user=world.resident2, need=need)
    assert not rules.can_support_need(user=world.resident, need=need)
    need.status = NeedStatus.MERGED
    assert not rules.can_support_need(user=world.resident2, need=need)
    assert rules.can_manage_needs(user=world.moderator, community_id=cid)
    assert not rules.can_manage_needs(user=world.resident, community_id=cid)
