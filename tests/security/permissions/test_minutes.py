"""Permission table for minutes, exports, follow-up, the archive and the needs list
(minutes:*, archive:*, needs:*): every role against each view, refusals change nothing.

Issue 7. The machinery and the role names are those of ``test_sessions``. Minutes are read by the
community's members (residents, observers, moderators: ``can_read_minutes``), or by anyone when
published as public; the members-only record here is of a session open to all residents, so the
outsider (a resident without the car-owner tag) is a member who reads it.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from records import services
from records.models import (
    ActionItem,
    ActionStatus,
    ActionUpdate,
    MinutesDraft,
    MinutesRecord,
    Need,
    NeedSupport,
    SatisfactionRating,
    Visibility,
)
from sessions.models import TopicSession
from tests.factories import World
from tests.records.helpers import held_session, published, voted_session
from tests.security.permissions.test_sessions import (
    ROLES,
    SIGNED_IN,
    Case,
    per_role,
    post_only,
    run_get_on_post_only,
    run_row,
)

COMMUNITY = frozenset({"outsider", "observer", "resident", "moderator"})  # members of the world's community
RESIDENTS = frozenset({"outsider", "resident"})  # residents of the world's community
MEMBERS_403 = per_role(404, outsider=403, observer=403, resident=403)  # members who may read but not act

# (url name, method[:variant]) -> the roles allowed; every other role is refused.
TABLE: dict[tuple[str, str], set[str]] = {
    ("minutes:detail", "get"): set(COMMUNITY),  # members-only minutes
    ("minutes:detail", "get:public"): set(ROLES),  # public minutes: any visitor
    ("minutes:by_hash", "get"): set(ROLES),  # a redirect to the permalink, which checks (below)
    ("minutes:print", "get"): set(COMMUNITY),
    ("minutes:json", "get"): set(COMMUNITY),
    ("minutes:markdown", "get"): set(COMMUNITY),
    ("minutes:votes_csv", "get"): set(COMMUNITY),
    ("minutes:correct", "get"): {"moderator"},
    ("minutes:correct", "post"): {"moderator"},
    ("minutes:for_session", "get"): set(COMMUNITY),
    ("minutes:draft", "get"): {"moderator"},
    ("minutes:draft", "post"): {"moderator"},
    ("minutes:draft", "post:publish"): {"moderator"},
    ("minutes:action_item_create", "post"): {"moderator"},
    ("minutes:action_item", "get"): set(COMMUNITY),  # as readable as the minutes it belongs to
    ("minutes:action_item_update", "post"): {"moderator"},  # the responsible moderator
    ("minutes:action_item_rate", "post"): set(RESIDENTS),  # residents rate a done item
    ("minutes:follow_up", "get"): {"moderator", "other_moderator"},  # each sees their own items (checked)
    ("archive:list", "get"): set(ROLES),  # members-only minutes listed to members only (checked)
    ("needs:index", "get"): set(SIGNED_IN),  # each is sent to their own community's list (checked)
    ("needs:list", "get"): set(COMMUNITY),
    ("needs:list", "post"): set(RESIDENTS),  # residents submit needs
    ("needs:detail", "get"): set(COMMUNITY),
    ("needs:support", "post"): set(RESIDENTS),  # residents support others' needs
    ("needs:merge", "post"): {"moderator"},
    ("needs:to_session", "post"): {"moderator"},
}


class MinutesCtx:
    def __init__(self, world: World) -> None:
        self.world = world

    @cached_property
    def members(self) -> MinutesRecord:
        """Members-only minutes of a held session with a vote (title: 东门夜间划线停车)."""
        session = voted_session(self.world)
        item = session.agenda_items.get()
        services.minutes_draft_save(
            session=session, by=self.world.moderator, summaries={str(item.pk): "同意划线，夜间限停。"}, visibility=Visibility.MEMBERS
        )
        return services.minutes_publish(session=session, by=self.world.moderator)

    @cached_property
    def public(self) -> MinutesRecord:
        return published(self.world, title="公开的纪要：楼道堆物清理")

    @cached_property
    def adjourned(self) -> TopicSession:
        """Held and adjourned, minutes not yet written."""
        return held_session(self.world, title="待写纪要：电动车充电")

    def _item(self, what: str) -> ActionItem:
        return services.action_item_create(
            session=self.members.session,
            by=self.world.moderator,
            what=what,
            responsible="物业公司",
            due_on=timezone.localdate() + timedelta(days=30),
        )

    @cached_property
    def item(self) -> ActionItem:
        return self._item("地库划线四十个车位")

    @cached_property
    def done_item(self) -> ActionItem:
        item = self._item("东门安装夜间照明")
        services.action_item_update(item=item, by=self.world.moderator, status=ActionStatus.DONE, note="已完工")
        item.refresh_from_db()
        return item

    @cached_property
    def need(self) -> Need:
        return services.need_submit(community=self.world.community, by=self.world.resident2, text="三号楼楼道灯坏了很久", category="safety")

    @cached_property
    def other_need(self) -> Need:
        return services.need_submit(community=self.world.community, by=self.world.outsider, text="楼道灯不亮", category="safety")


@pytest.fixture
def ctx(world: World) -> MinutesCtx:
    return MinutesCtx(world)


def _record_url(name: str, record: str = "members") -> Any:
    return lambda c: reverse(name, kwargs={"record_id": getattr(c, record).pk})


def _members_title(c: MinutesCtx) -> str:
    return c.members.title


def _records(c: MinutesCtx) -> list[tuple[Any, ...]]:
    return list(MinutesRecord.objects.order_by("pk").values_list("pk", "session_id", "kind", "content_hash", "visibility"))


def _drafts(c: MinutesCtx) -> list[tuple[Any, ...]]:
    return list(MinutesDraft.objects.order_by("pk").values_list("pk", "session_id", "summaries", "visibility"))


def _draft_form(c: MinutesCtx, *, publish: bool) -> dict[str, str]:
    first = c.adjourned.agenda_items.order_by("position").first()
    return {
        "visibility": Visibility.MEMBERS,
        f"summary_{first.pk}": "权限表写的概要",
        "summary_general": "",
        "publish": "1" if publish else "0",
        **({"confirm_publish": "1"} if publish else {}),
    }


def _items(c: MinutesCtx) -> tuple[list[Any], list[Any]]:
    return (
        list(ActionItem.objects.order_by("pk").values_list("pk", "session_id", "what", "status", "owner_id")),
        list(ActionUpdate.objects.order_by("pk").values_list("pk", "item_id", "status_to", "text")),
    )


def _needs(c: MinutesCtx) -> tuple[list[Any], list[Any], list[Any]]:
    return (
        list(Need.objects.order_by("pk").values_list("pk", "text", "status", "merged_into_id", "session_id")),
        sorted(NeedSupport.objects.values_list("need_id", "user_id")),
        list(TopicSession.objects.order_by("pk").values_list("pk", "title")),
    )


def _redirects_to(target: Any) -> Any:
    def check(c: MinutesCtx, role: str, allowed: bool, response: Any, client: Any) -> str:
        expected = target(c, role)
        return "" if not allowed or response.get("Location") == expected else f"redirected to {response.get('Location')}, not {expected}"

    return check


def _needs_list_of(c: MinutesCtx, role: str) -> str:
    community = c.world.other_community if role.startswith("other_") else c.world.community
    return reverse("needs:list", kwargs={"community_slug": community.slug})


CASES: dict[tuple[str, str], Case] = {
    # Minutes pages are open to visitors: refusals are 404 for everyone (members-only minutes do not reveal they exist).
    ("minutes:detail", "get"): Case(url=_record_url("minutes:detail"), anonymous=404, secret=_members_title),
    ("minutes:detail", "get:public"): Case(url=_record_url("minutes:detail", "public"), secret=lambda c: c.public.title),
    ("minutes:by_hash", "get"): Case(
        url=lambda c: reverse("minutes:by_hash", kwargs={"content_hash": c.members.content_hash}),
        ok=302,
        secret=_members_title,
        seen_by=frozenset(),
        check=_redirects_to(lambda c, role: reverse("minutes:detail", kwargs={"record_id": c.members.pk})),
    ),
    ("minutes:print", "get"): Case(url=_record_url("minutes:print"), anonymous=404, secret=_members_title),
    ("minutes:json", "get"): Case(url=_record_url("minutes:json"), anonymous=404, secret=_members_title),
    ("minutes:markdown", "get"): Case(url=_record_url("minutes:markdown"), anonymous=404, secret=_members_title),
    ("minutes:votes_csv", "get"): Case(url=_record_url("minutes:votes_csv"), anonymous=404, secret=lambda c: "同意在东门夜间划线停车"),
    ("minutes:correct", "get"): Case(
        url=_record_url("minutes:correct"), refused=MEMBERS_403, secret=lambda c: "同意划线，夜间限停。", seen_by=frozenset({"moderator"})
    ),
    ("minutes:correct", "post"): Case(
        url=_record_url("minutes:correct"),
        ok=302,
        refused=MEMBERS_403,
        data=lambda c: {f"summary_{c.members.content['agenda'][0]['id']}": "更正后的概要", "summary_general": "", "reason": "笔误"},
        snapshot=_records,
    ),
    ("minutes:for_session", "get"): Case(
        url=lambda c: reverse("minutes:for_session", kwargs={"session_id": c.members.session_id}),
        ok=302,
        anonymous=404,
        check=_redirects_to(lambda c, role: reverse("minutes:detail", kwargs={"record_id": c.members.pk})),
    ),
    # Drafting: the service refuses everyone but the community's moderators with one sentence (403).
    ("minutes:draft", "get"): Case(
        url=lambda c: reverse("minutes:draft", kwargs={"session_id": c.adjourned.pk}), refused=403, secret=lambda c: c.adjourned.title
    ),
    ("minutes:draft", "post"): Case(
        url=lambda c: reverse("minutes:draft", kwargs={"session_id": c.adjourned.pk}),
        ok=302,
        refused=403,
        data=lambda c: _draft_form(c, publish=False),
        snapshot=_drafts,
    ),
    ("minutes:draft", "post:publish"): Case(
        url=lambda c: reverse("minutes:draft", kwargs={"session_id": c.adjourned.pk}),
        ok=302,
        refused=403,
        data=lambda c: _draft_form(c, publish=True),
        snapshot=_records,
    ),
    ("minutes:action_item_create", "post"): Case(
        url=lambda c: reverse("minutes:action_item_create", kwargs={"session_id": c.adjourned.pk}),
        ok=302,
        refused=403,
        data=lambda c: {"what": "权限表：加装监控", "responsible": "物业公司", "due_on": ""},
        snapshot=_items,
    ),
    ("minutes:action_item", "get"): Case(
        url=lambda c: reverse("minutes:action_item", kwargs={"item_id": c.item.pk}), anonymous=404, secret=lambda c: c.item.what
    ),
    ("minutes:action_item_update", "post"): Case(
        url=lambda c: reverse("minutes:action_item_update", kwargs={"item_id": c.item.pk}),
        ok=302,
        refused=MEMBERS_403,
        data=lambda c: {"status": ActionStatus.IN_PROGRESS, "note": "已联系施工队", "drop_reason": ""},
        snapshot=_items,
    ),
    ("minutes:action_item_rate", "post"): Case(
        url=lambda c: reverse("minutes:action_item_rate", kwargs={"item_id": c.done_item.pk}),
        ok=302,
        refused=per_role(404, observer=403, moderator=403),
        data=lambda c: {"score": "4"},
        snapshot=lambda c: sorted(SatisfactionRating.objects.values_list("item_id", "user_id", "score")),
    ),
    ("minutes:follow_up", "get"): Case(
        url=lambda c: (c.item, reverse("minutes:follow_up"))[1], refused=403, secret=lambda c: c.item.what, seen_by=frozenset({"moderator"})
    ),
    ("archive:list", "get"): Case(url=lambda c: (c.public, reverse("archive:list"))[1], secret=_members_title, seen_by=COMMUNITY),
    ("needs:index", "get"): Case(url=lambda c: reverse("needs:index"), ok=302, check=_redirects_to(_needs_list_of)),
    ("needs:list", "get"): Case(
        url=lambda c: (c.need, reverse("needs:list", kwargs={"community_slug": c.world.community.slug}))[1], secret=lambda c: c.need.text
    ),
    ("needs:list", "post"): Case(
        url=lambda c: reverse("needs:list", kwargs={"community_slug": c.world.community.slug}),
        ok=302,
        refused=per_role(404, observer=403, moderator=403),
        data=lambda c: {"text": "权限表：路灯不亮", "category": "safety", "building": ""},
        snapshot=_needs,
    ),
    ("needs:detail", "get"): Case(url=lambda c: reverse("needs:detail", kwargs={"need_id": c.need.pk}), secret=lambda c: c.need.text),
    ("needs:support", "post"): Case(
        url=lambda c: reverse("needs:support", kwargs={"need_id": c.need.pk}),
        ok=302,
        refused=per_role(404, observer=403, moderator=403),
        data=lambda c: {"support": "1"},
        snapshot=_needs,
    ),
    ("needs:merge", "post"): Case(
        url=lambda c: reverse("needs:merge", kwargs={"need_id": c.need.pk}),
        ok=302,
        refused=MEMBERS_403,
        data=lambda c: {"into": c.other_need.pk},
        snapshot=_needs,
    ),
    ("needs:to_session", "post"): Case(
        url=lambda c: reverse("needs:to_session", kwargs={"need_id": c.need.pk}),
        ok=302,
        refused=MEMBERS_403,
        data=lambda c: {
            "title": "权限表：楼道照明专场",
            "starts_at": (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
        },
        snapshot=_needs,
    ),
}


def test_every_row_has_a_case() -> None:
    assert set(TABLE) == set(CASES)


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(TABLE), ids=[f"{n}-{m}" for n, m in TABLE])
def test_minutes_view_permissions(ctx: MinutesCtx, key: tuple[str, str]) -> None:
    run_row(ctx, key, TABLE[key], CASES[key])


@pytest.mark.django_db
@pytest.mark.parametrize("key", post_only(TABLE), ids=[f"{n}-{m}" for n, m in post_only(TABLE)])
def test_get_on_a_post_only_minutes_view_changes_nothing(ctx: MinutesCtx, key: tuple[str, str]) -> None:
    run_get_on_post_only(ctx, key, CASES[key])
