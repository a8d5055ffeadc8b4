"""Permission table for a decision's progress, results and announcement (decisions:progress_*):
every role against each view, refusals change nothing. The roles are the world's (test_sessions):
its residents are verified owners of the community, the observer and the moderator hold no unit,
the others belong to another community. Members read the progress, the result (and check a
receipt) and the announcement, others get 404, a visitor is sent to log in; owners object (a
member without a unit: 403); the correction and the finalization are the moderators' (members:
403). The world has no grid worker, so the last test tries one (a member: reads, may not act)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agora.infra import clock
from agora.roster.models import Resident, Role
from tests.factories import World, staff_make
from tests.security.permissions.test_sessions import Case, per_role, post_only, run_get_on_post_only, run_row
from voting.decisions.lifecycle import (
    MatterSpec,
    decision_announce,
    decision_close_due,
    decision_create,
    decision_finalize,
    decision_open_due,
    objection_lodge,
)
from voting.decisions.paper.services import paper_enter, paper_prepare
from voting.models import BallotCode, Decision, DecisionStep, DecisionVote, MotionKind, MotionOption, Objection
from voting.services import MotionSettings
from voting.units import unit_key_for

MEMBERS = {"observer", "resident", "outsider", "moderator"}
OWNERS = {"resident", "outsider"}
MEMBER_403 = per_role(404, observer=403, resident=403, outsider=403)

TABLE: dict[tuple[str, str], set[str]] = {
    ("decisions:progress_page", "get"): MEMBERS,
    ("decisions:progress_results", "get"): MEMBERS,
    ("decisions:progress_results", "post"): MEMBERS,  # a receipt check: reads only
    ("decisions:progress_objection", "post"): OWNERS,
    ("decisions:progress_correction", "get"): {"moderator"},
    ("decisions:progress_correction", "post"): {"moderator"},
    ("decisions:progress_finalize", "post"): {"moderator"},
    ("decisions:progress_announcement", "get"): MEMBERS,
    ("decisions:progress_announcement_pdf", "get"): MEMBERS,
}


def _key(user: Any, d: Decision) -> str:
    h = Resident.objects.get(user=user).household
    return unit_key_for(mode=d.unit_mode, household_id=h.pk, owner_key=h.owner_key)


class ProgressCtx:
    """Of the world's community, on this test's clock: an open decision; one closed with its
    objection window running, a paper ballot counted for the resident's unit and an objection;
    one whose window has passed; one final."""

    def __init__(self, world: World) -> None:
        self.world = world
        now = clock.now()
        mod = world.moderator
        make = lambda title, hours, objection_days: decision_create(  # noqa: E731
            community=world.community,
            by=mod,
            title=title,
            opens_at=now + timedelta(hours=1),
            closes_at=now + timedelta(hours=hours),
            matters=[MatterSpec(text="权限表：增设停车位", settings=MotionSettings(kind=MotionKind.ART278))],
            notice_days=0,
            objection_days=objection_days,
        )
        self.final = make("权限表：已公告", 2, 1)
        self.final_ready = make("权限表：询异期已过", 2, 1)
        self.windowed = make("权限表：询异期中", 27, 3)
        self.open = make("权限表：投票中", 24 * 20, 3)
        every = (self.final, self.final_ready, self.windowed, self.open)
        for d in every:
            decision_announce(decision=d, by=mod)
        clock.advance(3600 + 60)
        for d in every:
            decision_open_due(decision_id=d.pk)
            d.refresh_from_db()
        paper_prepare(decision=self.windowed, by=mod)
        code = BallotCode.objects.get(decision=self.windowed, unit_key=_key(world.resident, self.windowed)).code
        paper_enter(
            decision=self.windowed, by=mod, typed_code=code, choices={self.matter(self.windowed): [self.option(self.windowed, "yes")]}
        )
        self.paper_vote = DecisionVote.objects.get(decision=self.windowed)
        clock.advance(3600)
        decision_close_due(decision_id=self.final.pk)
        decision_close_due(decision_id=self.final_ready.pk)
        clock.advance(25 * 3600 + 60)
        decision_close_due(decision_id=self.windowed.pk)
        for d in every:
            d.refresh_from_db()
        decision_finalize(decision=self.final, by=mod, counting_officers=["张三"])
        self.objection = objection_lodge(decision=self.windowed, author=world.resident, text="权限表：异议")

    def matter(self, d: Decision) -> int:
        return d.matters.get().pk

    def option(self, d: Decision, code: str) -> int:
        return MotionOption.objects.get(motion__decision=d, code=code).pk


@pytest.fixture
def ctx(world: World, settings: Any, tmp_path: Any) -> ProgressCtx:
    path = tmp_path / "clock"
    path.write_text("0")
    settings.AGORA_TEST_CLOCK_FILE = str(path)
    return ProgressCtx(world)


def _at(name: str, decision: str) -> Any:
    return lambda c: reverse(f"decisions:progress_{name}", kwargs={"decision_id": getattr(c, decision).pk})


def _steps(c: ProgressCtx) -> list[tuple[Any, ...]]:
    return sorted(DecisionStep.objects.values_list("decision_id", "kind", "at"))


def _decisions(c: ProgressCtx) -> list[tuple[Any, ...]]:
    return list(Decision.objects.order_by("pk").values_list("pk", "state", "counting_officers")) + _steps(c)


def _votes(c: ProgressCtx) -> list[tuple[Any, ...]]:
    return sorted(DecisionVote.objects.values_list("pk", "unit_key", "state", "channel")) + _steps(c)


def _correction(c: ProgressCtx) -> dict[str, str]:
    return {
        "vote": str(c.paper_vote.pk),
        "reason": "权限表：复核发现误读",
        "confirm": "on",
        f"matter_{c.matter(c.windowed)}": str(c.option(c.windowed, "no")),
    }


CASES: dict[tuple[str, str], Case] = {
    ("decisions:progress_page", "get"): Case(url=_at("page", "open"), secret=lambda c: c.open.title),
    ("decisions:progress_results", "get"): Case(url=_at("results", "windowed"), secret=lambda c: c.windowed.title),
    ("decisions:progress_results", "post"): Case(
        url=_at("results", "windowed"), data=lambda c: {"receipt": "ABCD-EFGH-JKMN"}, secret=lambda c: c.windowed.title
    ),
    # Members who hold no unit are told why (403); owners of the community object.
    ("decisions:progress_objection", "post"): Case(
        url=_at("objection", "windowed"),
        ok=302,
        refused=per_role(404, observer=403, moderator=403),
        data=lambda c: {"text": "权限表：又一条异议"},
        snapshot=lambda c: sorted(Objection.objects.values_list("decision_id", "author_id", "text")),
    ),
    ("decisions:progress_correction", "get"): Case(url=_at("correction", "windowed"), refused=MEMBER_403),
    ("decisions:progress_correction", "post"): Case(
        url=_at("correction", "windowed"), ok=302, refused=MEMBER_403, data=_correction, snapshot=_votes
    ),
    ("decisions:progress_finalize", "post"): Case(
        url=_at("finalize", "final_ready"),
        ok=302,
        refused=MEMBER_403,
        data=lambda c: {"officers": "张三", "confirm": "on"},
        snapshot=_decisions,
    ),
    ("decisions:progress_announcement", "get"): Case(url=_at("announcement", "final"), secret=lambda c: c.final.title),
    ("decisions:progress_announcement_pdf", "get"): Case(url=_at("announcement_pdf", "final")),
}


def test_every_row_has_a_case() -> None:
    assert set(TABLE) == set(CASES)


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(TABLE), ids=[f"{n}-{m}" for n, m in TABLE])
def test_progress_page_permissions(ctx: ProgressCtx, key: tuple[str, str]) -> None:
    run_row(ctx, key, TABLE[key], CASES[key])


@pytest.mark.django_db
@pytest.mark.parametrize("key", post_only(TABLE), ids=[f"{n}-{m}" for n, m in post_only(TABLE)])
def test_get_on_a_post_only_progress_page_changes_nothing(ctx: ProgressCtx, key: tuple[str, str]) -> None:
    run_get_on_post_only(ctx, key, CASES[key])


@pytest.mark.django_db
def test_a_grid_worker_reads_the_progress_and_may_not_act(ctx: ProgressCtx) -> None:
    worker = staff_make(ctx.world.community, Role.GRID_WORKER, "grid1")
    client = Client()
    client.force_login(worker)
    before = (_votes(ctx), _decisions(ctx), sorted(Objection.objects.values_list("pk", "text")))
    for (name, method), case in CASES.items():
        url = case.url(ctx)
        response = client.post(url, case.data(ctx) if case.data else {}) if method == "post" else client.get(url)
        expected = 200 if TABLE[(name, method)] == MEMBERS else 403  # holds no unit: may not object either
        assert response.status_code == expected, (name, method, response.status_code)
    assert (_votes(ctx), _decisions(ctx), sorted(Objection.objects.values_list("pk", "text"))) == before
