"""Household mode: the other members learn that their household voted, and by whom (docs/live-page.md)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from agora.roster.models import Resident
from tests.factories import World, resident_make
from tests.voting.helpers import open_motion, vote

pytestmark = pytest.mark.django_db


def test_the_other_members_are_told_who_voted_never_how(world: World, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    household = Resident.objects.get(user=world.resident).household
    spouse = resident_make(world.community, "res4", tags=[world.car_owner], household=household)
    world.resident.first_name = "王强"
    world.resident.save()
    motion = open_motion(world.session, world.moderator, ballot_unit="household")
    with mock.patch("voting.announce.broadcast_now") as sent, django_capture_on_commit_callbacks(execute=True):
        vote(motion, world.resident, "yes")
    told = [(group, event) for group, event in (c.args for c in sent.call_args_list) if event["kind"] == "ballot.household"]
    assert [group for group, _ in told] == [f"user.{spouse.pk}"]
    assert told[0][1]["payload"] == {"session_id": world.session.pk, "motion_id": motion.pk, "by": "王强"}

    page = Client()
    page.force_login(spouse)
    html = page.get(reverse("topic_sessions:detail", args=[world.session.pk])).content.decode()
    assert "您家已由王强投票。" in html


def test_a_person_ballot_tells_nobody_else(world: World, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    motion = open_motion(world.session, world.moderator)
    with mock.patch("voting.announce.broadcast_now") as sent, django_capture_on_commit_callbacks(execute=True):
        vote(motion, world.resident, "yes")
    assert not [c for c in sent.call_args_list if c.args[1]["kind"] == "ballot.household"]
