"""Permission table for door to door and proxies (decisions:door_*): every role against each view,
refusals change nothing. The roles are the world's (test_sessions): the world has no grid worker
(tests/voting/decisions/test_door.py tries theirs), so of its roles only the moderator canvasses;
members who may not get 403, the other community 404. The signed proxy is the moderators' alone
(404 for every other, members too); a proxy ballot is its holder's alone (here the resident, for
the outsider's unit; 404 for everyone else, the moderator too)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from agora.infra import clock
from agora.roster.models import Resident
from tests.factories import World
from tests.security.permissions.test_sessions import Case, per_role, run_row
from voting.decisions.door.services import ProxyTerms, proxy_record
from voting.decisions.lifecycle import MatterSpec, decision_announce, decision_create, decision_open_due
from voting.models import Decision, DecisionVote, MotionOption, Proxy, ProxyKind
from voting.services import MotionSettings
from voting.units import household_label, unit_key_for

MEMBER_403 = per_role(404, observer=403, resident=403, outsider=403)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

TABLE: dict[tuple[str, str], set[str]] = {
    ("decisions:door_start", "get"): {"moderator", "resident"},  # the resident holds a proxy: the page says so
    ("decisions:door_ballot", "get"): {"moderator"},
    ("decisions:door_ballot", "post"): {"moderator"},
    ("decisions:door_list", "get"): {"moderator"},
    ("decisions:door_list_csv", "get"): {"moderator"},
    ("decisions:door_proxies", "get"): {"moderator"},
    ("decisions:door_proxies", "post"): {"moderator"},
    ("decisions:door_proxy_revoke", "get"): {"moderator"},
    ("decisions:door_proxy_revoke", "post"): {"moderator"},
    ("decisions:door_proxy_document", "get"): {"moderator"},
    ("decisions:door_proxy_ballot", "get"): {"resident"},
    ("decisions:door_proxy_ballot", "post"): {"resident"},
}


def _key(user: Any, d: Decision) -> str:
    h = Resident.objects.get(user=user).household
    return unit_key_for(mode=d.unit_mode, household_id=h.pk, owner_key=h.owner_key)


class DoorCtx:
    """An open decision of the world's community; a proxy held by the resident for the
    outsider's unit (their own unit votes separately)."""

    def __init__(self, world: World) -> None:
        self.world = world
        now = clock.now()
        self.decision = decision_create(
            community=world.community,
            by=world.moderator,
            title="权限表：扫楼",
            opens_at=now + timedelta(hours=1),
            closes_at=now + timedelta(days=10),
            matters=[MatterSpec(text="权限表：事项", settings=MotionSettings())],
            notice_days=0,
        )
        decision_announce(decision=self.decision, by=world.moderator)
        clock.advance(3600 + 60)
        decision_open_due(decision_id=self.decision.pk)
        self.decision.refresh_from_db()
        self.proxy = proxy_record(
            decision=self.decision,
            by=world.moderator,
            principal_unit_key=_key(world.outsider, self.decision),
            holder=world.resident,
            terms=ProxyTerms(ProxyKind.PROXY, "", clock.now() - timedelta(hours=1), self.decision.closes_at),
            document=SimpleUploadedFile("p.png", PNG, content_type="image/png"),
        )
        self.door_unit = _key(world.resident2, self.decision)

    def yes(self) -> str:
        return str(MotionOption.objects.get(motion__decision=self.decision, code="yes").pk)

    def matter(self) -> int:
        return self.decision.matters.get().pk


@pytest.fixture
def ctx(world: World, settings: Any, tmp_path: Any) -> DoorCtx:
    path = tmp_path / "clock"
    path.write_text("0")
    settings.AGORA_TEST_CLOCK_FILE = str(path)
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return DoorCtx(world)


def _url(name: str, **extra: Any) -> Any:
    def url(c: DoorCtx) -> str:
        kwargs = {"decision_id": c.decision.pk}
        kwargs.update({k: getattr(c, v).pk for k, v in extra.items()})
        return reverse(f"decisions:door_{name}", kwargs=kwargs)

    return url


def _votes(c: DoorCtx) -> list[tuple[Any, ...]]:
    return sorted(DecisionVote.objects.values_list("decision_id", "unit_key", "channel", "voter_id", "recorded_by_id"))


def _proxies(c: DoorCtx) -> list[tuple[Any, ...]]:
    return sorted(Proxy.objects.values_list("pk", "principal_unit_key", "holder_id", "revoked_at"))


def _proxy_data(c: DoorCtx) -> dict[str, Any]:
    local = timezone.localtime(clock.now())
    return {
        "unit": c.door_unit,
        "holder": c.world.observer.username,
        "kind": ProxyKind.PROXY,
        "scope": "",
        "valid_from": (local - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "valid_until": timezone.localtime(c.decision.closes_at).strftime("%Y-%m-%dT%H:%M"),
        "document": SimpleUploadedFile("p.png", PNG, content_type="image/png"),
    }


CASES: dict[tuple[str, str], Case] = {
    ("decisions:door_start", "get"): Case(
        url=_url("start"),
        refused=MEMBER_403,
        secret=lambda c: household_label(Resident.objects.get(user=c.world.resident2).household),
        seen_by=frozenset({"moderator"}),
    ),  # the units to visit: the moderator's; the holder sees only their proxy
    ("decisions:door_ballot", "get"): Case(url=lambda c: _url("ballot")(c) + "?unit=" + c.door_unit, refused=MEMBER_403),
    ("decisions:door_ballot", "post"): Case(
        url=_url("ballot"),
        ok=200,  # the receipt page
        refused=MEMBER_403,
        data=lambda c: {"unit": c.door_unit, f"m{c.matter()}": c.yes(), "reason": "phone", "idempotency_key": "d" * 20, "confirmed": "1"},
        snapshot=_votes,
    ),
    ("decisions:door_list", "get"): Case(url=_url("list"), refused=MEMBER_403),
    ("decisions:door_list_csv", "get"): Case(url=_url("list_csv"), refused=MEMBER_403),
    ("decisions:door_proxies", "get"): Case(url=_url("proxies"), refused=MEMBER_403),
    ("decisions:door_proxies", "post"): Case(url=_url("proxies"), ok=302, refused=MEMBER_403, data=_proxy_data, snapshot=_proxies),
    ("decisions:door_proxy_revoke", "get"): Case(url=_url("proxy_revoke", proxy_id="proxy"), refused=MEMBER_403),
    ("decisions:door_proxy_revoke", "post"): Case(
        url=_url("proxy_revoke", proxy_id="proxy"),
        ok=302,
        refused=MEMBER_403,
        data=lambda c: {"reason": "权限表：撤销", "confirm": "on"},
        snapshot=_proxies,
    ),
    ("decisions:door_proxy_document", "get"): Case(url=_url("proxy_document", proxy_id="proxy")),
    ("decisions:door_proxy_ballot", "get"): Case(url=_url("proxy_ballot", proxy_id="proxy")),
    ("decisions:door_proxy_ballot", "post"): Case(
        url=_url("proxy_ballot", proxy_id="proxy"),
        ok=200,  # the receipt page
        data=lambda c: {f"m{c.matter()}": c.yes(), "idempotency_key": "p" * 20, "confirmed": "1"},
        snapshot=_votes,
    ),
}


def test_every_row_has_a_case() -> None:
    assert set(TABLE) == set(CASES)


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(TABLE), ids=[f"{n}-{m}" for n, m in TABLE])
def test_door_page_permissions(ctx: DoorCtx, key: tuple[str, str]) -> None:
    run_row(ctx, key, TABLE[key], CASES[key])
