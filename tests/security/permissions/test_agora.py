"""Permission table for the site-wide views and the admin: every role against each view, refusals change nothing.

Issue 7. The machinery and the role names are those of ``test_sessions``. In the admin the two
moderators are staff (as a moderator who uses it is); each must see only their own community's
rows: ``other_moderator`` opens every changelist and finds none of this community's data in it.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from agora.roster.audit import audit_record
from agora.roster.models import DisplayPreference, Grid, Household, Resident
from records import services as minutes_services
from records.models import ActionStatus, Visibility
from sessions.models import TopicSession
from tests.factories import PASSWORD, World
from tests.records.helpers import voted_session
from tests.security.permissions.test_sessions import ROLES, Case, per_role, run_row

STAFF = frozenset({"moderator", "other_moderator"})
ADMIN_SECRET_IP = "203.0.113.77"


class AgoraCtx:
    def __init__(self, world: World) -> None:
        self.world = world

    @cached_property
    def audit(self) -> str:
        audit_record(kind="session.transition", community=self.world.community, actor=self.world.moderator, ip_address=ADMIN_SECRET_IP)
        return ADMIN_SECRET_IP

    @cached_property
    def admin(self) -> World:
        """The moderators are staff; this community has a grid on its roster."""
        w = self.world
        get_user_model().objects.filter(pk__in=[w.moderator.pk, w.other_moderator.pk]).update(is_staff=True)
        Grid.objects.create(community=w.community, name="权限表网格")
        return w

    @cached_property
    def voted(self) -> World:
        """... a held session with a vote and its members-only minutes (东门夜间划线停车) ..."""
        w = self.admin
        session = voted_session(w)
        item = session.agenda_items.get()
        minutes_services.minutes_draft_save(
            session=session, by=w.moderator, summaries={str(item.pk): "同意"}, visibility=Visibility.MEMBERS
        )
        minutes_services.minutes_publish(session=session, by=w.moderator)
        return w

    @cached_property
    def follow_up(self) -> World:
        """... a done action item, rated by a resident ..."""
        w = self.voted
        session = TopicSession.objects.get(title="东门夜间划线停车")
        action = minutes_services.action_item_create(
            session=session,
            by=w.moderator,
            what="东门安装夜间照明",
            responsible="物业公司",
            due_on=timezone.localdate() + timedelta(days=9),
        )
        minutes_services.action_item_update(item=action, by=w.moderator, status=ActionStatus.DONE, note="已完工")
        action.refresh_from_db()
        minutes_services.satisfaction_rate(item=action, user=w.resident, score=5)
        return w

    @cached_property
    def needs(self) -> World:
        """... and a need that a neighbour supports."""
        w = self.admin
        need = minutes_services.need_submit(community=w.community, by=w.resident2, text="三号楼楼道灯坏了很久", category="safety")
        minutes_services.need_support(need=need, user=w.resident)
        return w

    @cached_property
    def household(self) -> Household:
        self.admin  # noqa: B018 — the staff flags first
        return Resident.objects.get(user=self.world.resident).household


@pytest.fixture
def ctx(world: World) -> AgoraCtx:
    return AgoraCtx(world)


def _location(expected: Any) -> Any:
    """A check: allowed roles are redirected to ``expected(ctx, role)`` (None: no redirect expected)."""

    def check(c: AgoraCtx, role: str, allowed: bool, response: Any, client: Any) -> str:
        target = expected(c, role)
        if not allowed or target is None or response.get("Location") == target:
            return ""
        return f"redirected to {response.get('Location')}, not {target}"

    return check


def _logged_in_as(c: AgoraCtx, role: str, allowed: bool, response: Any, client: Any) -> str:
    expected = c.world.resident.pk if role == "anonymous" else getattr(c.world, role).pk
    got = client.session.get("_auth_user_id")
    return "" if str(got) == str(expected) else f"signed in as {got}, expected {expected}"


def _logged_out(c: AgoraCtx, role: str, allowed: bool, response: Any, client: Any) -> str:
    return "" if "_auth_user_id" not in client.session else "still signed in"


def _elder_kept(c: AgoraCtx, role: str, allowed: bool, response: Any, client: Any) -> str:
    if response.cookies.get("agora_elder") is None or response.cookies["agora_elder"].value != "1":
        return "no elder-mode cookie"
    if role != "anonymous" and not DisplayPreference.objects.filter(user=getattr(c.world, role), elder_mode=True).exists():
        return "elder mode not kept for the account"
    return ""


def _language_set(c: AgoraCtx, role: str, allowed: bool, response: Any, client: Any) -> str:
    cookie = response.cookies.get("django_language")
    return "" if cookie is not None and cookie.value == "en" else "no language cookie"


def _to_admin_login(c: AgoraCtx, role: str, allowed: bool, response: Any, client: Any) -> str:
    """Who is not staff is sent to the admin's login page."""
    if allowed or role in STAFF:
        return ""
    location = response.get("Location", "")
    return "" if location.startswith(reverse("admin:login")) else f"not sent to the admin login: {response.status_code} {location}"


# Each scoped changelist, the state it needs, and a text that only this community's rows put on it.
CHANGELISTS: dict[str, tuple[str, str]] = {
    "agora_community": ("admin", "社区gyl"),
    "agora_grid": ("admin", "权限表网格"),
    "agora_building": ("admin", "3号楼"),
    "agora_household": ("admin", "3号楼"),
    "agora_membership": ("admin", "社区gyl"),
    "agora_resident": ("admin", "社区gyl"),
    "topic_sessions_topicsession": ("voted", "东门夜间划线停车"),
    "topic_sessions_sessiontransition": ("voted", "东门夜间划线停车"),
    "topic_sessions_message": ("voted", "东门夜间划线停车"),
    "voting_motion": ("voted", "同意在东门夜间划线停车"),
    "voting_inpersoncount": ("voted", "同意在东门夜间划线停车"),
    "voting_resolution": ("voted", "同意在东门夜间划线停车"),
    "minutes_minutesrecord": ("voted", "东门夜间划线停车"),
    "minutes_chainhead": ("voted", "社区gyl"),
    "minutes_actionitem": ("follow_up", "东门安装夜间照明"),
    "minutes_satisfactionrating": ("follow_up", "东门安装夜间照明"),
    "minutes_need": ("needs", "三号楼楼道灯坏了很久"),
    "minutes_needsupport": ("needs", "三号楼楼道灯坏了很久"),
}
NOT_STAFF_302 = per_role(302)

# (url name, method[:variant]) -> the roles allowed; every other role is refused.
TABLE: dict[tuple[str, str], set[str]] = {
    ("home", "get"): set(ROLES),  # visitors see the front page; the signed-in go to their sessions
    ("login", "get"): set(ROLES),
    ("login", "post"): set(ROLES),  # a visitor signs in; the signed-in are sent on
    ("logout", "post"): set(ROLES),
    ("elder_mode", "post"): set(ROLES),  # kept per device, and per account when signed in
    ("audit_log", "get"): {"moderator"},
    ("set_language", "post"): set(ROLES),
    ("admin:index", "get"): set(STAFF),
    **{(f"admin:{model}_changelist", "get"): set(STAFF) for model in CHANGELISTS},  # each sees their own rows (checked)
    ("admin:agora_tag_changelist", "get"): set(),  # tags are the district's
    ("admin:agora_household_change", "get"): {"moderator"},
    ("admin:agora_household_change", "post"): {"moderator"},
}


def _household_url(c: AgoraCtx) -> str:
    return reverse("admin:agora_household_change", args=[c.household.pk])


CASES: dict[tuple[str, str], Case] = {
    ("home", "get"): Case(
        url=lambda c: reverse("home"),
        ok=per_role(302, anonymous=200),
        check=_location(lambda c, role: None if role == "anonymous" else reverse("topic_sessions:list")),
    ),
    ("login", "get"): Case(
        url=lambda c: reverse("login"),
        ok=per_role(302, anonymous=200),
        check=_location(lambda c, role: None if role == "anonymous" else reverse("home")),
    ),
    ("login", "post"): Case(
        url=lambda c: reverse("login"),
        ok=302,
        data=lambda c: {"username": c.world.resident.get_username(), "password": PASSWORD},
        check=_logged_in_as,
    ),
    ("logout", "post"): Case(url=lambda c: reverse("logout"), ok=302, check=_logged_out),
    ("elder_mode", "post"): Case(url=lambda c: reverse("elder_mode"), ok=302, data=lambda c: {"on": "1", "next": "/"}, check=_elder_kept),
    ("audit_log", "get"): Case(
        url=lambda c: (c.audit, reverse("audit_log", kwargs={"community_slug": c.world.community.slug}))[1], secret=lambda c: c.audit
    ),
    ("set_language", "post"): Case(
        url=lambda c: reverse("set_language"), ok=302, data=lambda c: {"language": "en", "next": "/"}, check=_language_set
    ),
    ("admin:index", "get"): Case(
        url=lambda c: (c.admin, reverse("admin:index"))[1], refused=NOT_STAFF_302, anonymous=302, check=_to_admin_login
    ),
    **{
        (f"admin:{model}_changelist", "get"): Case(
            url=lambda c, model=model, state=state: (getattr(c, state), reverse(f"admin:{model}_changelist"))[1],
            refused=NOT_STAFF_302,
            anonymous=302,
            secret=lambda c, secret=secret: secret,
            seen_by=frozenset({"moderator"}),
            check=_to_admin_login,
        )
        for model, (state, secret) in CHANGELISTS.items()
    },
    ("admin:agora_tag_changelist", "get"): Case(
        url=lambda c: (c.admin, reverse("admin:agora_tag_changelist"))[1],
        refused=per_role(302, moderator=403, other_moderator=403),  # staff without a permission on tags
        anonymous=302,
        check=_to_admin_login,
    ),
    ("admin:agora_household_change", "get"): Case(
        url=_household_url,
        refused=NOT_STAFF_302,  # the other moderator: "does not exist", back to the admin index
        anonymous=302,
        secret=lambda c: f'value="{c.household.owner_key}"',
        check=_to_admin_login,
    ),
    ("admin:agora_household_change", "post"): Case(
        url=_household_url,
        ok=302,
        refused=NOT_STAFF_302,
        anonymous=302,
        data=lambda c: {
            "building": c.household.building_id,
            "unit": c.household.unit,
            "room": c.household.room,
            "exclusive_area": "91.50",
            "owner_key": c.household.owner_key,
        },
        snapshot=lambda c: list(Household.objects.order_by("pk").values_list("pk", "building_id", "room", "exclusive_area")),
        check=_to_admin_login,
    ),
}


def test_every_row_has_a_case() -> None:
    assert set(TABLE) == set(CASES)


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(TABLE), ids=[f"{n}-{m}" for n, m in TABLE])
def test_agora_view_permissions(ctx: AgoraCtx, key: tuple[str, str]) -> None:
    run_row(ctx, key, TABLE[key], CASES[key])
