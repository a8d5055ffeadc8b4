"""Permission table for paper ballots (decisions:paper_*): every role against each view, refusals
change nothing. Every page is the community's moderators' (the clerks): members of the community
who read the decision (its residents, the observer) get 403, everyone else 404, a visitor is sent
to log in. The roles are the world's (test_sessions); the world has no grid worker, so the last
test tries one (403, like a resident: tests/voting/decisions/test_paper_views.py tries theirs too)."""

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
from voting.decisions.lifecycle import MatterSpec, decision_announce, decision_create, decision_open_due
from voting.decisions.paper.services import paper_enter, paper_prepare
from voting.models import BallotCode, Decision, DecisionVote, MotionOption
from voting.services import MotionSettings
from voting.units import unit_key_for

MEMBER_403 = per_role(404, observer=403, resident=403, outsider=403)

TABLE: dict[tuple[str, str], set[str]] = {
    ("decisions:paper_home", "get"): {"moderator"},
    ("decisions:paper_prepare", "post"): {"moderator"},
    ("decisions:paper_pdf", "get"): {"moderator"},
    ("decisions:paper_register", "get"): {"moderator"},
    ("decisions:paper_register", "post"): {"moderator"},
    ("decisions:paper_enter", "get"): {"moderator"},
    ("decisions:paper_enter", "post"): {"moderator"},
    ("decisions:paper_entries", "get"): {"moderator"},
    ("decisions:paper_void", "get"): {"moderator"},
    ("decisions:paper_void", "post"): {"moderator"},
    ("decisions:paper_reviews", "get"): {"moderator"},
    ("decisions:paper_review", "get"): {"moderator"},
    ("decisions:paper_review", "post"): {"moderator"},
    ("decisions:paper_conflicts", "get"): {"moderator"},
}


def _key(user: Any, d: Decision) -> str:
    h = Resident.objects.get(user=user).household
    return unit_key_for(mode=d.unit_mode, household_id=h.pk, owner_key=h.owner_key)


class PaperCtx:
    """Two open decisions of the world's community, entered twice by two clerks: ``fresh`` has
    no ballot codes yet; ``decision`` has them, the resident's ballot read two ways (waiting for
    review), the outsider's entered once (waiting for the second clerk), the second resident's
    still to be handed out and entered."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.clerk = staff_make(world.community, Role.MODERATOR, "clerk2")
        now = clock.now()
        make = lambda title: decision_create(  # noqa: E731
            community=world.community,
            by=world.moderator,
            title=title,
            opens_at=now + timedelta(hours=1),
            closes_at=now + timedelta(days=10),
            matters=[MatterSpec(text="权限表：事项", settings=MotionSettings())],
            notice_days=0,
            double_entry=True,
        )
        self.decision, self.fresh = make("权限表：纸质票"), make("权限表：未备票码")
        for d in (self.decision, self.fresh):
            decision_announce(decision=d, by=world.moderator)
        clock.advance(3600 + 60)
        for d in (self.decision, self.fresh):
            decision_open_due(decision_id=d.pk)
            d.refresh_from_db()
        paper_prepare(decision=self.decision, by=world.moderator)
        yes, no = self.option("yes"), self.option("no")
        matter = self.decision.matters.get().pk
        paper_enter(decision=self.decision, by=world.moderator, typed_code=self.code(world.resident), choices={matter: [yes]})
        paper_enter(decision=self.decision, by=self.clerk, typed_code=self.code(world.resident), choices={matter: [no]})
        paper_enter(decision=self.decision, by=world.moderator, typed_code=self.code(world.outsider), choices={matter: [yes]})
        self.mismatch = DecisionVote.objects.get(decision=self.decision, unit_key=_key(world.resident, self.decision))
        self.held = DecisionVote.objects.get(decision=self.decision, unit_key=_key(world.outsider, self.decision))

    def code(self, user: Any) -> str:
        return BallotCode.objects.get(decision=self.decision, unit_key=_key(user, self.decision)).code

    def option(self, code: str) -> int:
        return MotionOption.objects.get(motion__decision=self.decision, code=code).pk

    def ballot(self, code: str, choice: str = "yes") -> dict[str, str]:
        return {"code": code, f"m{self.decision.matters.get().pk}": str(self.option(choice))}


@pytest.fixture
def ctx(world: World, settings: Any, tmp_path: Any) -> PaperCtx:
    path = tmp_path / "clock"
    path.write_text("0")
    settings.AGORA_TEST_CLOCK_FILE = str(path)
    return PaperCtx(world)


def _url(name: str, decision: str = "decision", **extra: str) -> Any:
    def url(c: PaperCtx) -> str:
        kwargs = {"decision_id": getattr(c, decision).pk}
        kwargs.update({k: getattr(c, v).pk for k, v in extra.items()})
        return reverse(f"decisions:paper_{name}", kwargs=kwargs)

    return url


def _codes(c: PaperCtx) -> list[tuple[Any, ...]]:
    return sorted(BallotCode.objects.values_list("decision_id", "unit_key", "issued_at", "issued_to", "returned_at"))


def _votes(c: PaperCtx) -> list[tuple[Any, ...]]:
    return sorted(DecisionVote.objects.values_list("pk", "unit_key", "state", "channel", "recorded_by_id"))


CASES: dict[tuple[str, str], Case] = {
    ("decisions:paper_home", "get"): Case(url=_url("home"), refused=MEMBER_403),
    ("decisions:paper_prepare", "post"): Case(url=_url("prepare", "fresh"), ok=302, refused=MEMBER_403, snapshot=_codes),
    ("decisions:paper_pdf", "get"): Case(url=_url("pdf"), refused=MEMBER_403),
    ("decisions:paper_register", "get"): Case(url=lambda c: _url("register")(c) + "?building=all", refused=MEMBER_403),
    ("decisions:paper_register", "post"): Case(
        url=_url("register"),
        ok=302,
        refused=MEMBER_403,
        data=lambda c: {"unit": _key(c.world.resident2, c.decision), "issued_to": "本人"},
        snapshot=_codes,
    ),
    ("decisions:paper_enter", "get"): Case(url=lambda c: _url("enter")(c) + "?code=" + c.code(c.world.resident2), refused=MEMBER_403),
    ("decisions:paper_enter", "post"): Case(
        url=_url("enter"), ok=302, refused=MEMBER_403, data=lambda c: c.ballot(c.code(c.world.resident2)), snapshot=_votes
    ),
    ("decisions:paper_entries", "get"): Case(url=_url("entries"), refused=MEMBER_403),
    ("decisions:paper_void", "get"): Case(url=_url("void", vote_id="held"), refused=MEMBER_403),
    ("decisions:paper_void", "post"): Case(
        url=_url("void", vote_id="held"),
        ok=302,
        refused=MEMBER_403,
        data=lambda c: {"reason": "权限表：错录", "confirmed": "on"},
        snapshot=_votes,
    ),
    ("decisions:paper_reviews", "get"): Case(url=_url("reviews"), refused=MEMBER_403),
    ("decisions:paper_review", "get"): Case(url=_url("review", vote_id="mismatch"), refused=MEMBER_403),
    ("decisions:paper_review", "post"): Case(
        url=_url("review", vote_id="mismatch"),
        ok=302,
        refused=MEMBER_403,
        data=lambda c: c.ballot(c.code(c.world.resident), "no"),
        snapshot=_votes,
    ),
    ("decisions:paper_conflicts", "get"): Case(url=_url("conflicts"), refused=MEMBER_403),
}


def test_every_row_has_a_case() -> None:
    assert set(TABLE) == set(CASES)


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(TABLE), ids=[f"{n}-{m}" for n, m in TABLE])
def test_paper_page_permissions(ctx: PaperCtx, key: tuple[str, str]) -> None:
    run_row(ctx, key, TABLE[key], CASES[key])


@pytest.mark.django_db
@pytest.mark.parametrize("key", post_only(TABLE), ids=[f"{n}-{m}" for n, m in post_only(TABLE)])
def test_get_on_a_post_only_paper_page_changes_nothing(ctx: PaperCtx, key: tuple[str, str]) -> None:
    run_get_on_post_only(ctx, key, CASES[key])


@pytest.mark.django_db
def test_a_grid_worker_is_refused_every_paper_view_and_changes_nothing(ctx: PaperCtx) -> None:
    worker = staff_make(ctx.world.community, Role.GRID_WORKER, "grid1")
    client = Client()
    client.force_login(worker)
    before = (_codes(ctx), _votes(ctx))
    for (name, method), case in CASES.items():
        url = case.url(ctx)
        response = client.post(url, case.data(ctx) if case.data else {}) if method == "post" else client.get(url)
        assert response.status_code == 403, (name, method, response.status_code)
    assert (_codes(ctx), _votes(ctx)) == before
