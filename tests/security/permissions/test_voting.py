"""Permission table for the vote views (voting:*): every role against each view, refusals change nothing.

Issue 7. The machinery and the role names are those of ``test_sessions``. The motions belong to the
world's live session (audience: car owners; the observer invited): a draft, and an open
approve/reject motion for the audience, one ballot per person.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import pytest
from django.urls import reverse

from tests.factories import World
from tests.security.permissions.test_sessions import (
    SEEN_403,
    Case,
    per_role,
    post_only,
    run_get_on_post_only,
    run_row,
)
from tests.voting.helpers import open_motion, option, vote
from voting import services
from voting.models import (
    Ballot,
    InPersonCount,
    Motion,
    Participation,
    Resolution,
    SealedBallot,
)

# (url name, method[:variant]) -> the roles allowed; every other role is refused.
TABLE: dict[tuple[str, str], set[str]] = {
    ("voting:create", "get"): {"moderator"},
    ("voting:create", "post"): {"moderator"},
    ("voting:open", "post"): {"moderator"},
    ("voting:close", "post"): {"moderator"},
    ("voting:discard", "post"): {"moderator"},
    ("voting:draw", "post"): {"moderator"},  # a tie decided by a recorded public draw
    ("voting:ballot", "post"): {"resident"},  # the audience votes; observers and moderators do not
    ("voting:in_person", "get"): {"moderator"},
    ("voting:in_person", "post"): {"moderator"},
    ("voting:results", "get"): {"observer", "resident", "moderator"},  # whoever sees the session, once opened
    ("voting:results", "get:draft"): {"moderator"},  # a draft is the moderators' own
    ("voting:results_screen", "get"): {"observer", "resident", "moderator"},
    ("voting:receipt_check", "post"): {"observer", "resident", "moderator"},  # as the results
}


class VotingCtx:
    def __init__(self, world: World) -> None:
        self.world = world

    @cached_property
    def draft(self) -> Motion:
        return services.motion_create(session=self.world.session, by=self.world.moderator, text="草稿议案：西侧空地改建车位")

    @cached_property
    def open(self) -> Motion:
        return open_motion(self.world.session, self.world.moderator, text="表决中：同意在东门夜间划线停车")

    @cached_property
    def tied(self) -> Motion:
        """A closed single-choice motion that ended in a tie (one ballot each way)."""
        motion = open_motion(
            self.world.session, self.world.moderator, text="平局：充电桩装在东门还是西门", kind="single", options=["东门", "西门"]
        )
        vote(motion, self.world.resident, "东门")
        vote(motion, self.world.resident2, "西门")
        services.motion_close(motion=motion, by=self.world.moderator)
        return motion


@pytest.fixture
def ctx(world: World) -> VotingCtx:
    return VotingCtx(world)


def _url(name: str, motion: str) -> Any:
    return lambda c: reverse(f"voting:{name}", kwargs={"session_id": c.world.session.pk, "motion_id": getattr(c, motion).pk})


def _motions(c: VotingCtx) -> list[tuple[Any, ...]]:
    return list(Motion.objects.order_by("pk").values_list("pk", "text", "state", "opened_by_id", "closed_by_id"))


def _ballots(c: VotingCtx) -> tuple[list[Any], list[Any], list[Any]]:
    return (
        sorted(Ballot.objects.values_list("motion_id", "choice", "receipt_hash")),
        sorted(SealedBallot.objects.values_list("motion_id", "lookup")),
        sorted(Participation.objects.values_list("motion_id", "unit_key", "channel", "voter_id", "changes")),
    )


CASES: dict[tuple[str, str], Case] = {
    ("voting:create", "get"): Case(
        url=lambda c: reverse("voting:create", kwargs={"session_id": c.world.session.pk}),
        refused=SEEN_403,
        secret=lambda c: c.world.session.title,
    ),
    ("voting:create", "post"): Case(
        url=lambda c: reverse("voting:create", kwargs={"session_id": c.world.session.pk}),
        ok=302,
        refused=SEEN_403,
        data=lambda c: {
            "text": "权限表：同意增设充电桩",
            "kind": "approve_reject",
            "eligibility": "audience",
            "ballot_unit": "person",
            "weight_mode": "equal",
            "base": "yes_no",
            "threshold": "more_than_half",
            "secret": "on",
            "allow_change": "on",
        },
        snapshot=_motions,
    ),
    # Drafts are invisible to everyone but the moderators (404); an open motion is seen (403).
    ("voting:open", "post"): Case(url=_url("open", "draft"), ok=302, snapshot=_motions),
    ("voting:close", "post"): Case(
        url=_url("close", "open"), ok=302, refused=SEEN_403, data=lambda c: {"confirmed": "1"}, snapshot=_motions
    ),
    ("voting:discard", "post"): Case(url=_url("discard", "draft"), ok=302, snapshot=_motions),
    ("voting:draw", "post"): Case(
        url=_url("draw", "tied"),
        ok=302,
        refused=SEEN_403,
        data=lambda c: {"public_value": "17 42 3"},
        snapshot=lambda c: sorted(Resolution.objects.values_list("motion_id", "outcome", "data")),
    ),
    ("voting:ballot", "post"): Case(
        url=_url("ballot", "open"),
        ok=200,  # the receipt page
        # The observer and the moderator see the motion and are told why they cannot vote.
        refused=per_role(404, observer=302, moderator=302),
        data=lambda c: {"choice": option(c.open, "yes"), "idempotency_key": "k" * 20},
        snapshot=_ballots,
    ),
    ("voting:in_person", "get"): Case(url=_url("in_person", "open"), refused=SEEN_403, secret=lambda c: c.open.text),
    ("voting:in_person", "post"): Case(
        url=_url("in_person", "open"),
        ok=302,
        refused=SEEN_403,
        data=lambda c: {f"o{option(c.open, 'yes')}": "1", f"o{option(c.open, 'no')}": "1"},  # within the eligible base
        snapshot=lambda c: sorted(InPersonCount.objects.values_list("motion_id", "choice", "count", "entered_by_id")),
    ),
    ("voting:results", "get"): Case(url=_url("results", "open"), secret=lambda c: c.open.text),
    ("voting:results", "get:draft"): Case(url=_url("results", "draft"), secret=lambda c: c.draft.text),
    ("voting:results_screen", "get"): Case(url=_url("results_screen", "open"), secret=lambda c: c.open.text),
    ("voting:receipt_check", "post"): Case(
        url=_url("receipt_check", "open"), data=lambda c: {"receipt": "x" * 24}, secret=lambda c: c.open.text
    ),
}


def test_every_row_has_a_case() -> None:
    assert set(TABLE) == set(CASES)


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(TABLE), ids=[f"{n}-{m}" for n, m in TABLE])
def test_voting_view_permissions(ctx: VotingCtx, key: tuple[str, str]) -> None:
    run_row(ctx, key, TABLE[key], CASES[key])


@pytest.mark.django_db
@pytest.mark.parametrize("key", post_only(TABLE), ids=[f"{n}-{m}" for n, m in post_only(TABLE)])
def test_get_on_a_post_only_voting_view_changes_nothing(ctx: VotingCtx, key: tuple[str, str]) -> None:
    run_get_on_post_only(ctx, key, CASES[key])
