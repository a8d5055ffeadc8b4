"""Permission table for the moderator's roster pages (upload, invitation sheets, passwords, grid
workers and observers) and the login with an invitation code: every role against each view,
refusals change nothing. The machinery and role names are those of ``test_sessions``."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agora.roster.invitations import IssuedCode, invitation_issue
from agora.roster.models import Grid, Household, Invitation, Membership, Resident, Role, RosterUpload
from agora.roster.uploads import roster_upload_store
from tests.factories import World, staff_make
from tests.security.permissions.test_sessions import ROLES, SIGNED_IN, Case, run_row

ROSTER = "楼栋,单元,房号,面积,姓名,身份\n9号楼,1,901,66,权限表居民,业主\n"
MODERATOR = {"moderator"}


class RosterCtx:
    def __init__(self, world: World) -> None:
        self.world = world

    def url(self, name: str, *args: Any) -> str:
        return reverse(f"roster:{name}", args=[self.world.community.slug, *args])

    @cached_property
    def token(self) -> str:
        return roster_upload_store(community=self.world.community, by=self.world.moderator, filename="r.csv", data=ROSTER.encode("gbk"))

    @cached_property
    def phone(self) -> str:
        Resident.objects.filter(user=self.world.resident).update(phone="13912345678")
        return "13912345678"

    @cached_property
    def issued(self) -> IssuedCode:
        return invitation_issue(user=self.world.resident, community=self.world.community, by=self.world.moderator)

    @cached_property
    def grid_worker(self) -> Membership:
        Grid.objects.create(community=self.world.community, name="权限表网格")
        user = staff_make(self.world.community, Role.GRID_WORKER, "permgrid")
        return Membership.objects.get(user=user)


@pytest.fixture
def ctx(world: World) -> RosterCtx:
    return RosterCtx(world)


def _households(c: RosterCtx) -> int:
    return Household.objects.count()


def _open_codes(c: RosterCtx) -> list[Any]:
    return list(Invitation.objects.filter(revoked_at__isnull=True, used_at__isnull=True).values_list("pk", flat=True))


def _password(c: RosterCtx) -> str:
    c.world.resident.refresh_from_db()
    return c.world.resident.password


def _memberships(c: RosterCtx) -> list[Any]:
    return list(Membership.objects.order_by("pk").values_list("pk", "role"))


def _no_password_set(c: RosterCtx, role: str, allowed: bool, response: Any, client: Any) -> str:
    user = getattr(c.world, role, None)
    if user is None:
        return ""
    user.refresh_from_db()
    return "the password was changed without a code login" if user.check_password(NEW_PASSWORD["new_password1"]) else ""


NEW_PASSWORD = {"new_password1": "lantern-courtyard-77", "new_password2": "lantern-courtyard-77"}

# (url name, method) -> the roles allowed; every other role is refused (403 with a sentence; a visitor is sent to log in).
TABLE: dict[tuple[str, str], set[str]] = {
    ("roster:home", "get"): MODERATOR,
    ("roster:upload", "get"): MODERATOR,
    ("roster:upload", "post"): MODERATOR,
    ("roster:preview", "get"): MODERATOR,
    ("roster:preview", "post"): MODERATOR,
    ("roster:residents", "get"): MODERATOR,
    ("roster:sheets", "get"): MODERATOR,
    ("roster:sheets", "post"): MODERATOR,
    ("roster:revoke", "get"): MODERATOR,
    ("roster:revoke", "post"): MODERATOR,
    ("roster:password", "get"): MODERATOR,
    ("roster:password", "post"): MODERATOR,
    ("roster:staff", "get"): MODERATOR,
    ("roster:staff", "post"): MODERATOR,
    ("roster:staff_remove", "get"): MODERATOR,
    ("roster:staff_remove", "post"): MODERATOR,
    ("roster:staff_grids", "post"): MODERATOR,
    ("code_login_form", "get"): set(ROLES),
    ("code_login_form", "post"): set(ROLES),  # the code decides who is logged in, not who sends it
    ("code_login", "get"): set(ROLES),
    ("code_welcome", "get"): set(SIGNED_IN),
    ("code_welcome", "post"): set(SIGNED_IN),
}

CASES: dict[tuple[str, str], Case] = {
    ("roster:home", "get"): Case(url=lambda c: c.url("home"), refused=403),
    ("roster:upload", "get"): Case(url=lambda c: c.url("upload"), refused=403),
    ("roster:upload", "post"): Case(
        url=lambda c: c.url("upload"),
        ok=302,
        refused=403,
        data=lambda c: {"file": SimpleUploadedFile("r.csv", ROSTER.encode("gbk"), content_type="text/csv")},
        snapshot=lambda c: RosterUpload.objects.count(),
    ),
    ("roster:preview", "get"): Case(url=lambda c: c.url("preview", c.token), refused=403, secret=lambda c: "新增户：1"),
    ("roster:preview", "post"): Case(
        url=lambda c: c.url("preview", c.token), refused=403, data=lambda c: {"confirmed": "1"}, snapshot=_households
    ),
    ("roster:residents", "get"): Case(url=lambda c: c.url("residents"), refused=403, secret=lambda c: c.phone),
    ("roster:sheets", "get"): Case(url=lambda c: c.url("sheets") + f"?user={c.world.resident.pk}", refused=403),
    ("roster:sheets", "post"): Case(
        url=lambda c: c.url("sheets"), refused=403, data=lambda c: {"user": c.world.resident.pk, "confirmed": "1"}, snapshot=_open_codes
    ),
    ("roster:revoke", "get"): Case(url=lambda c: (c.issued, c.url("revoke", c.world.resident.pk))[1], refused=403),
    ("roster:revoke", "post"): Case(
        url=lambda c: (c.issued, c.url("revoke", c.world.resident.pk))[1],
        ok=302,
        refused=403,
        data=lambda c: {"confirmed": "1"},
        snapshot=_open_codes,
    ),
    ("roster:password", "get"): Case(url=lambda c: c.url("password", c.world.resident.pk), refused=403),
    ("roster:password", "post"): Case(
        url=lambda c: c.url("password", c.world.resident.pk), ok=302, refused=403, data=lambda c: NEW_PASSWORD, snapshot=_password
    ),
    ("roster:staff", "get"): Case(url=lambda c: c.url("staff"), refused=403),
    ("roster:staff", "post"): Case(
        url=lambda c: c.url("staff"),
        ok=302,
        refused=403,
        data=lambda c: {"role": "observer", "full_name": "权限表列席", "username": "perm-observer", "title": ""},
        snapshot=_memberships,
    ),
    ("roster:staff_remove", "get"): Case(url=lambda c: c.url("staff_remove", c.grid_worker.pk), refused=403),
    ("roster:staff_remove", "post"): Case(
        url=lambda c: c.url("staff_remove", c.grid_worker.pk), ok=302, refused=403, data=lambda c: {"confirmed": "1"}, snapshot=_memberships
    ),
    ("roster:staff_grids", "post"): Case(
        url=lambda c: c.url("staff_grids", c.grid_worker.pk),
        ok=302,
        refused=403,
        data=lambda c: {"grids": [g.pk for g in Grid.objects.filter(community=c.world.community)]},
        snapshot=lambda c: list(c.grid_worker.grids.values_list("pk", flat=True)),
    ),
    ("code_login_form", "get"): Case(url=lambda c: reverse("code_login_form")),
    ("code_login_form", "post"): Case(
        url=lambda c: reverse("code_login_form"),
        ok=302,
        data=lambda c: {"code": c.issued.code},
        snapshot=lambda c: Invitation.objects.filter(used_at__isnull=False).count(),
    ),
    ("code_login", "get"): Case(url=lambda c: reverse("code_login", args=[c.issued.code])),
    # Without a code login in this session: sent home, and no password is set.
    ("code_welcome", "get"): Case(url=lambda c: reverse("code_welcome"), ok=302),
    ("code_welcome", "post"): Case(
        url=lambda c: reverse("code_welcome"), ok=302, data=lambda c: {"choice": "password", **NEW_PASSWORD}, check=_no_password_set
    ),
}


def test_every_row_has_a_case() -> None:
    assert set(TABLE) == set(CASES)


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(TABLE), ids=[f"{n}-{m}" for n, m in TABLE])
def test_roster_view_permissions(ctx: RosterCtx, key: tuple[str, str]) -> None:
    run_row(ctx, key, TABLE[key], CASES[key])
