"""Permission table for the decision pages (decisions:pages_*): every role against each view,
refusals change nothing. The roles are the world's (test_sessions): its residents are verified
owners of the community, the observer and the moderator hold no unit, the others belong to
another community. Members read an announced decision (a draft: moderators only, others 404);
a member who may not take a step gets 403; owners vote and object; notices are public."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from agora.infra import clock
from tests.factories import World
from tests.security.permissions.test_sessions import SIGNED_IN, Case, per_role, post_only, run_get_on_post_only, run_row
from voting.decisions.lifecycle import (
    MatterSpec,
    decision_announce,
    decision_close_due,
    decision_create,
    decision_open_due,
    objection_lodge,
)
from voting.models import Decision, DecisionVote, MotionKind, MotionOption, Objection, StepKind
from voting.services import MotionSettings

MEMBERS = {"observer", "resident", "outsider", "moderator"}
OWNERS = {"resident", "outsider"}
MEMBER_403 = per_role(404, observer=403, resident=403, outsider=403)

TABLE: dict[tuple[str, str], set[str]] = {
    ("decisions:pages_index", "get"): set(SIGNED_IN),  # each sees the decisions of their own communities
    ("decisions:pages_list", "get"): MEMBERS,
    ("decisions:pages_create", "get"): {"moderator"},
    ("decisions:pages_create", "post"): {"moderator"},
    ("decisions:pages_detail", "get"): MEMBERS,
    ("decisions:pages_detail", "get:draft"): {"moderator"},
    ("decisions:pages_discard", "get"): {"moderator"},
    ("decisions:pages_discard", "post"): {"moderator"},
    ("decisions:pages_announce", "get"): {"moderator"},
    ("decisions:pages_announce", "post"): {"moderator"},
    ("decisions:pages_extend", "get"): {"moderator"},
    ("decisions:pages_extend", "post"): {"moderator"},
    ("decisions:pages_finalize", "get"): {"moderator"},
    ("decisions:pages_finalize", "post"): {"moderator"},
    ("decisions:pages_object", "post"): OWNERS,
    ("decisions:pages_answer", "post"): {"moderator"},
    ("decisions:pages_vote", "get"): OWNERS,
    ("decisions:pages_vote", "post"): OWNERS,
    ("decisions:pages_notice", "get"): set(SIGNED_IN) | {"anonymous"},  # posted on the notice board
    ("decisions:pages_notice_pdf", "get"): set(SIGNED_IN) | {"anonymous"},
}


def _matters() -> list[MatterSpec]:
    return [MatterSpec(text="权限表：增设停车位", settings=MotionSettings(kind=MotionKind.ART278))]


class DecisionsCtx:
    """A draft, an open decision, one closed with its objection window running and one whose
    window has passed, all of the world's community, on this test's clock."""

    def __init__(self, world: World) -> None:
        self.world = world
        now = clock.now()
        mod = world.moderator
        make = lambda title, hours, objection_days, start=1: decision_create(  # noqa: E731
            community=world.community,
            by=mod,
            title=title,
            opens_at=now + timedelta(hours=start),
            closes_at=now + timedelta(hours=hours),
            matters=_matters(),
            notice_days=0,
            objection_days=objection_days,
        )
        self.draft = make("权限表：草稿", 24 * 25, 3, start=24 * 20)  # still to come when announced
        self.final_ready = make("权限表：询异期已过", 2, 1)
        self.windowed = make("权限表：询异期中", 27, 3)
        self.open = make("权限表：投票中", 24 * 20, 3)
        for d in (self.final_ready, self.windowed, self.open):
            decision_announce(decision=d, by=mod)
        clock.advance(2 * 3600 + 60)
        for d in (self.final_ready, self.windowed, self.open):
            decision_open_due(decision_id=d.pk)
        decision_close_due(decision_id=self.final_ready.pk)
        clock.advance(25 * 3600 + 60)
        decision_close_due(decision_id=self.windowed.pk)
        for d in (self.final_ready, self.windowed, self.open):
            d.refresh_from_db()
        self.objection = objection_lodge(decision=self.windowed, author=world.resident, text="权限表：异议")

    def yes(self, d: Decision) -> int:
        return MotionOption.objects.get(motion__decision=d, code="yes").pk


@pytest.fixture
def ctx(world: World, settings: Any, tmp_path: Any) -> DecisionsCtx:
    path = tmp_path / "clock"
    path.write_text("0")
    settings.AGORA_TEST_CLOCK_FILE = str(path)
    return DecisionsCtx(world)


def _at(name: str, decision: str) -> Any:
    return lambda c: reverse(f"decisions:pages_{name}", args=[getattr(c, decision).pk])


def _decisions(c: DecisionsCtx) -> list[tuple[Any, ...]]:
    return list(Decision.objects.order_by("pk").values_list("pk", "title", "state", "closes_at", "counting_officers"))


def _local(at: Any) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")


def _create_data(c: DecisionsCtx) -> dict[str, str]:
    now = clock.now()
    return {
        "rows": "1",
        "title": "权限表：新建",
        "unit_mode": "owner",
        "opens_at": _local(now + timedelta(days=16)),
        "closes_at": _local(now + timedelta(days=20)),
        "notice_days": "15",
        "objection_days": "3",
        "proxies_per_holder": "1",
        "m1_text": "权限表：事项",
        "m1_kind": "art278",
    }


def _notice(c: DecisionsCtx) -> str:
    step = c.open.steps.get(kind=StepKind.ANNOUNCED)
    return reverse("decisions:pages_notice", args=[c.open.pk, step.pk])


CASES: dict[tuple[str, str], Case] = {
    ("decisions:pages_index", "get"): Case(
        url=lambda c: reverse("decisions:pages_index"), secret=lambda c: c.open.title, seen_by=frozenset(MEMBERS)
    ),
    ("decisions:pages_list", "get"): Case(
        url=lambda c: reverse("decisions:pages_list", args=[c.world.community.slug]), secret=lambda c: c.open.title
    ),
    ("decisions:pages_create", "get"): Case(
        url=lambda c: reverse("decisions:pages_create", args=[c.world.community.slug]), refused=MEMBER_403
    ),
    ("decisions:pages_create", "post"): Case(
        url=lambda c: reverse("decisions:pages_create", args=[c.world.community.slug]),
        ok=302,
        refused=MEMBER_403,
        data=_create_data,
        snapshot=_decisions,
    ),
    ("decisions:pages_detail", "get"): Case(url=_at("detail", "open"), secret=lambda c: c.open.title),
    ("decisions:pages_detail", "get:draft"): Case(url=_at("detail", "draft"), secret=lambda c: c.draft.title),
    ("decisions:pages_discard", "get"): Case(url=_at("discard", "draft"), secret=lambda c: c.draft.title),
    ("decisions:pages_discard", "post"): Case(url=_at("discard", "draft"), ok=302, data=lambda c: {"confirmed": "1"}, snapshot=_decisions),
    ("decisions:pages_announce", "get"): Case(url=_at("announce", "draft"), secret=lambda c: c.draft.title),
    ("decisions:pages_announce", "post"): Case(url=_at("announce", "draft"), ok=302, snapshot=_decisions),
    ("decisions:pages_extend", "get"): Case(url=_at("extend", "open"), refused=MEMBER_403),
    ("decisions:pages_extend", "post"): Case(
        url=_at("extend", "open"),
        ok=302,
        refused=MEMBER_403,
        data=lambda c: {"closes_at": _local(c.open.closes_at + timedelta(days=2)), "reason": "因业主表决票不足", "confirmed": "1"},
        snapshot=_decisions,
    ),
    ("decisions:pages_finalize", "get"): Case(url=_at("finalize", "final_ready"), refused=MEMBER_403),
    ("decisions:pages_finalize", "post"): Case(
        url=_at("finalize", "final_ready"),
        ok=302,
        refused=MEMBER_403,
        data=lambda c: {"counting_officers": "张三", "confirmed": "1"},
        snapshot=_decisions,
    ),
    # Members who hold no unit are told why (403); owners of the community object.
    ("decisions:pages_object", "post"): Case(
        url=_at("object", "windowed"),
        ok=302,
        refused=per_role(404, observer=403, moderator=403),
        data=lambda c: {"text": "权限表：又一条异议"},
        snapshot=lambda c: sorted(Objection.objects.values_list("decision_id", "author_id", "text")),
    ),
    ("decisions:pages_answer", "post"): Case(
        url=lambda c: reverse("decisions:pages_answer", args=[c.windowed.pk, c.objection.pk]),
        ok=302,
        refused=MEMBER_403,
        data=lambda c: {f"a{c.objection.pk}-answer": "权限表：答复"},
        snapshot=lambda c: sorted(Objection.objects.values_list("pk", "answer", "answered_by_id")),
    ),
    ("decisions:pages_vote", "get"): Case(
        url=_at("vote", "open"), refused=per_role(404, observer=403, moderator=403), secret=lambda c: "投票权数", seen_by=frozenset(OWNERS)
    ),
    ("decisions:pages_vote", "post"): Case(
        url=_at("vote", "open"),
        ok=200,  # the receipt page
        refused=per_role(404, observer=403, moderator=403),
        data=lambda c: {f"m{c.open.matters.get().pk}": str(c.yes(c.open)), "idempotency_key": "k" * 20, "confirmed": "1"},
        snapshot=lambda c: sorted(DecisionVote.objects.values_list("decision_id", "unit_key", "channel", "voter_id")),
    ),
    ("decisions:pages_notice", "get"): Case(url=_notice, anonymous=200, secret=lambda c: c.open.title),
    ("decisions:pages_notice_pdf", "get"): Case(url=lambda c: _notice(c) + "pdf/", anonymous=200),
}


def test_every_row_has_a_case() -> None:
    assert set(TABLE) == set(CASES)


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(TABLE), ids=[f"{n}-{m}" for n, m in TABLE])
def test_decision_page_permissions(ctx: DecisionsCtx, key: tuple[str, str]) -> None:
    run_row(ctx, key, TABLE[key], CASES[key])


@pytest.mark.django_db
@pytest.mark.parametrize("key", post_only(TABLE), ids=[f"{n}-{m}" for n, m in post_only(TABLE)])
def test_get_on_a_post_only_decision_page_changes_nothing(ctx: DecisionsCtx, key: tuple[str, str]) -> None:
    run_get_on_post_only(ctx, key, CASES[key])
