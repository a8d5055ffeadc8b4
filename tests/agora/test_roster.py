"""Roster import: all or nothing, every bad row reported, idempotent."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from agora.roster.models import Building, Household, Resident, Tag
from tests.factories import community_make

pytestmark = pytest.mark.django_db

GOOD = """building,unit,room,area,owner_key,username,full_name,tenure,tags,verified,grid
1号楼,1,101,88.50,O-1,zhang,张建国,owner,car_owner|elderly,yes,第1网格
1号楼,1,102,75,O-2,li,李秀英,tenant,renter,no,第1网格
1号楼,1,103,60.25,O-1,,,,,,第1网格
2号楼,2,201,,,,,,,,
"""


@pytest.fixture
def community():  # type: ignore[no-untyped-def]
    for slug, zh, en in [("car_owner", "车主", "Car owner"), ("elderly", "老年人", "Elderly"), ("renter", "租户", "Renter")]:
        Tag.objects.get_or_create(slug=slug, defaults={"name_zh": zh, "name_en": en})
    return community_make("gyl")


def run(tmp_path: Path, text: str, slug: str = "gyl") -> tuple[str, str]:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    out, err = StringIO(), StringIO()
    call_command("import_roster", str(path), community=slug, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_good_file_imports_households_and_residents(community, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out, _ = run(tmp_path, GOOD)
    assert "created 4 household" in out
    assert Household.objects.filter(building__community=community).count() == 4
    zhang = Resident.objects.get(user__username="zhang")
    assert zhang.household.exclusive_area == Decimal("88.50")
    assert zhang.tenure == "owner" and zhang.verified
    assert set(zhang.tags.values_list("slug", flat=True)) == {"car_owner", "elderly"}
    assert Household.objects.get(room="103").owner_key == "O-1"  # same owner, second unit
    assert Building.objects.get(name="1号楼").grid.name == "第1网格"


def test_reimporting_the_same_file_changes_nothing(community, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run(tmp_path, GOOD)
    before = list(Household.objects.values_list("pk", "exclusive_area", "owner_key").order_by("pk"))
    out, _ = run(tmp_path, GOOD)
    assert "Nothing changed" in out
    assert list(Household.objects.values_list("pk", "exclusive_area", "owner_key").order_by("pk")) == before
    assert Resident.objects.count() == 2


def test_a_bad_file_imports_nothing_and_names_every_bad_row(community, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = GOOD + "3号楼,1,,12,,,,,,,\n3号楼,1,301,-5,,wang,王,landlord,flying,maybe,\n1号楼,1,101,88.50,O-1,zhang,张建国,owner,,yes,\n"
    with pytest.raises(CommandError, match="nothing was imported"):
        run(tmp_path, bad)
    assert Household.objects.count() == 0 and Resident.objects.count() == 0


def test_errors_carry_line_numbers_and_reasons(community) -> None:  # type: ignore[no-untyped-def]
    from django.utils import translation

    from agora.roster.importer import roster_import

    bad = GOOD + "3号楼,1,,12,,,,,,,\n3号楼,1,301,-5,,wang,王,landlord,flying,maybe,\n"
    with translation.override("en"):
        report = roster_import(community=community, text=bad)
    lines = {(e.line, e.reason) for e in report.errors}
    assert (6, "room is empty") in lines
    reasons_7 = [r for line, r in lines if line == 7]
    assert len(reasons_7) == 4  # area, tenure, tags, verified
    assert any("-5" in r for r in reasons_7)


def test_unknown_columns_are_refused(community) -> None:  # type: ignore[no-untyped-def]
    from agora.roster.importer import roster_import

    report = roster_import(community=community, text="building,room,colour\n1号楼,101,red\n")
    assert [e.line for e in report.errors] == [1]


def test_unknown_community_is_a_clear_error(community, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="no community"):
        run(tmp_path, GOOD, slug="nowhere")


def test_seed_demo_builds_the_demo_community() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    from django.contrib.auth import get_user_model

    from agora.roster.models import Community
    from sessions.models import TopicSession

    gyl = Community.objects.get(slug="gangyunli")
    assert Household.objects.filter(building__community=gyl).count() == 200
    assert get_user_model().objects.get(username="resident40").check_password("agora-demo")
    session = TopicSession.objects.get(title="新增停车位如何分配")
    assert session.state == "scheduled" and list(session.audience_tags.values_list("slug", flat=True)) == ["car_owner"]
    assert "resident01" in out.getvalue()
    again = StringIO()
    call_command("seed_demo", "--if-empty", stdout=again)
    assert Community.objects.filter(slug="gangyunli").count() == 1


def test_a_row_naming_another_communitys_resident_is_a_line_numbered_error(community, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """福建路's file names 港云里's resident01: refused, and 港云里's resident is untouched."""
    from django.contrib.auth import get_user_model
    from django.utils import translation

    from agora.roster.importer import roster_import
    from tests.factories import resident_make, staff_make

    fujianlu = community_make("fjl")
    theirs = resident_make(community, username="resident01")
    theirs.first_name = "王芳"
    theirs.save()
    elsewhere_moderator = staff_make(community, "moderator", username="mod-gyl")
    admin = get_user_model().objects.create_user("district", is_superuser=True, is_staff=True)
    text = (
        "building,unit,room,area,owner_key,username,full_name,tenure,tags,verified,grid\n"
        "8号楼,1,101,70,,newcomer,新住户,owner,,yes,\n"
        "8号楼,1,102,70,,resident01,冒名者,tenant,,yes,\n"
        f"8号楼,1,103,70,,{elsewhere_moderator.username},冒名者,owner,,yes,\n"
        f"8号楼,1,104,70,,{admin.username},冒名者,owner,,yes,\n"
    )
    with translation.override("en"):
        report = roster_import(community=fujianlu, text=text)
        first = str(report.errors[0])
    assert [(e.line, "already exists outside this community" in e.reason) for e in report.errors] == [(3, True), (4, True), (5, True)]
    assert first.startswith("line 3: user resident01")
    theirs.refresh_from_db()
    assert theirs.first_name == "王芳"
    assert list(Resident.objects.filter(user=theirs).values_list("community__slug", flat=True)) == ["gyl"]
    assert not Resident.objects.filter(community=fujianlu).exists()  # all or nothing: not even the good row
    path = tmp_path / "fjl.csv"
    path.write_text(text, encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_roster", str(path), community="fjl", stdout=StringIO(), stderr=err)
    assert "line 3" in err.getvalue() or "第 3 行" in err.getvalue()


def test_the_communitys_own_residents_are_still_updated(community, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run(tmp_path, GOOD)
    out, _ = run(tmp_path, GOOD.replace("李秀英,tenant,renter", "李秀英,owner,renter"))
    assert "updated 1 resident" in out
    assert Resident.objects.get(user__username="li").tenure == "owner"
