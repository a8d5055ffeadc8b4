"""The roster upload page: encodings, headers, line numbers, the preview and the all-or-nothing
import, "nothing changed", and who may use it."""

from __future__ import annotations

import html
import io
import re

import pytest
from django.test import Client
from django.urls import reverse

from agora.roster.models import AuditEvent, Household, Resident, Role, RosterUpload, Tag
from tests.factories import community_make, resident_make, staff_make, user_make

pytestmark = pytest.mark.django_db

GOOD_ZH = "楼栋,单元,房号,面积,姓名,身份,电话,标签\n1号楼,1,101,88.50,张建国,业主,13800000001,车主\n1号楼,1,101,,王桂兰,业主,13800000002,\n1号楼,1,102,75,李秀英,租户,,\n"


@pytest.fixture
def community():  # type: ignore[no-untyped-def]
    Tag.objects.get_or_create(slug="car_owner", defaults={"name_zh": "车主", "name_en": "Car owner"})
    return community_make("gyl")


@pytest.fixture
def moderator(community):  # type: ignore[no-untyped-def]
    return staff_make(community, Role.MODERATOR, "mod")


def client_for(user, language: str = "zh-hans") -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.cookies["django_language"] = language
    if user is not None:
        client.force_login(user)
    return client


def upload(client: Client, data: bytes, name: str = "roster.csv"):  # type: ignore[no-untyped-def]
    f = io.BytesIO(data)
    f.name = name
    return client.post(reverse("roster:upload", args=["gyl"]), {"file": f}, follow=True)


def confirm(client: Client, response):  # type: ignore[no-untyped-def]
    action = re.search(r'action="(/roster/gyl/upload/[^"]+/)"', response.content.decode())
    assert action, response.content.decode()
    return client.post(action.group(1), {"confirmed": "1"})


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16", "utf-16-le"], ids=["utf8", "bom", "gbk", "gb18030", "utf16", "utf16le"]
)
def test_every_usual_encoding_previews_and_imports(community, moderator, encoding) -> None:  # type: ignore[no-untyped-def]
    client = client_for(moderator)
    preview = upload(client, GOOD_ZH.encode(encoding))
    text = preview.content.decode()
    assert preview.status_code == 200, text
    assert "导入这个文件将作出以下更改" in text and "新增户：2" in text
    assert Household.objects.count() == 0  # the preview writes nothing
    done = confirm(client, preview)
    assert "名册已导入" in done.content.decode()
    zhang = Resident.objects.get(user__first_name="张建国")
    assert (zhang.phone, zhang.tenure, str(zhang.household.exclusive_area)) == ("13800000001", "owner", "88.50")
    assert list(zhang.tags.values_list("slug", flat=True)) == ["car_owner"]
    # 王桂兰 lives in the same room: the room keeps its area, given on the first line only.
    assert Resident.objects.get(user__first_name="王桂兰").household == zhang.household
    assert not RosterUpload.objects.exists()  # removed once imported


def test_a_gbk_file_with_errors_gets_line_numbered_sentences_in_chinese_after_blank_lines(community, moderator) -> None:  # type: ignore[no-untyped-def]
    bad = "building, unit, room, area, full_name, tenure,\n\n1号楼,1,101,80,张建国,业主,\n\n\n1号楼,1,101,90,王桂兰,业主,\n2号楼,1,,70,李,房东,\n"
    response = upload(client_for(moderator), bad.encode("gbk"))
    text = response.content.decode()
    assert response.status_code == 400
    assert "第 6 行：面积90.00 m²与第 3 行同一房间的80.00 m²不一致" in text
    assert "第 7 行：房号为空" in text
    assert "第 7 行：身份必须是“owner”（业主）或“tenant”（租户），不能是“房东”" in text
    assert "什么也没有导入" in text and "Traceback" not in text
    assert Household.objects.count() == 0


def test_reimporting_an_unchanged_file_says_nothing_changed(community, moderator) -> None:  # type: ignore[no-untyped-def]
    client = client_for(moderator, "en")
    confirm(client, upload(client, GOOD_ZH.encode("utf-8")))
    again = upload(client, GOOD_ZH.encode("gbk"))
    assert "Nothing changed: the roster is already up to date." in again.content.decode()
    assert 'name="confirmed"' not in again.content.decode()
    assert Resident.objects.count() == 3


def test_a_changed_phone_is_one_changed_resident(community, moderator) -> None:  # type: ignore[no-untyped-def]
    client = client_for(moderator, "en")
    confirm(client, upload(client, GOOD_ZH.encode()))
    preview = upload(client, GOOD_ZH.replace("13800000002", "13900000002").encode())
    assert "changed residents: 1" in preview.content.decode()
    confirm(client, preview)
    assert Resident.objects.get(user__first_name="王桂兰").phone == "13900000002"
    imported = AuditEvent.objects.filter(kind="roster.imported").first()
    assert imported is not None and imported.actor == moderator


def test_an_xlsx_workbook_imports(community, moderator) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in [
        ["楼栋", "单元", "房号", "面积", "姓名", "身份", "电话"],
        [3, 1, 301, 66.5, "赵敏", "业主", 13800000009],
        [],
        [3, 1, 302, None, None, None, None],
    ]:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    client = client_for(moderator, "en")
    preview = upload(client, data.getvalue(), "roster.xlsx")
    assert "new households: 2" in preview.content.decode()
    confirm(client, preview)
    zhao = Resident.objects.get(user__first_name="赵敏")
    assert (str(zhao.household), zhao.phone) == ("3-1-301", "13800000009")


def test_an_xlsx_error_names_the_excel_row(community, moderator) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in [["building", "unit", "room"], [1, 1, 101], [None, None, None], [1, 1, None]]:
        sheet.append(row)
    data = io.BytesIO()
    book.save(data)
    preview = upload(client_for(moderator, "en"), data.getvalue(), "roster.xlsx")
    assert "line 4: room is empty" in preview.content.decode()


def test_a_file_that_is_not_a_roster_gets_a_sentence_and_the_form_again(community, moderator) -> None:  # type: ignore[no-untyped-def]
    client = client_for(moderator, "en")
    response = upload(client, b"PK\x03\x04 not really a workbook", "roster.xlsx")
    assert response.status_code == 400
    assert "This Excel file cannot be read" in response.content.decode()
    empty = client.post(reverse("roster:upload", args=["gyl"]), {})
    assert "Choose a roster file first." in empty.content.decode()


def test_the_import_never_touches_another_communitys_user(community, moderator) -> None:  # type: ignore[no-untyped-def]
    other = community_make("fjl")
    resident_make(other, "wang")
    text = "building,unit,room,username,full_name,tenure\n1号楼,1,101,wang,王某,owner\n"
    response = upload(client_for(moderator, "en"), text.encode())
    assert "line 2: user wang already exists outside this community" in response.content.decode()
    assert Resident.objects.get(user__username="wang").community == other


def test_an_upload_is_only_its_uploaders(community, moderator) -> None:  # type: ignore[no-untyped-def]
    preview = upload(client_for(moderator), GOOD_ZH.encode())
    colleague = staff_make(community, Role.MODERATOR, "mod2")
    action = re.search(r'action="(/roster/gyl/upload/[^"]+/)"', preview.content.decode())
    assert action
    taken = client_for(colleague, "en").post(action.group(1), {"confirmed": "1"}, follow=True)
    assert "This upload has expired or was already imported" in taken.content.decode()
    assert Household.objects.count() == 0


@pytest.mark.parametrize("who", ["resident", "observer", "grid_worker", "other_moderator"])
def test_only_this_communitys_moderators_upload(community, who) -> None:  # type: ignore[no-untyped-def]
    other = community_make("fjl")
    person = {
        "resident": lambda: resident_make(community),
        "observer": lambda: staff_make(community, Role.OBSERVER),
        "grid_worker": lambda: staff_make(community, Role.GRID_WORKER),
        "other_moderator": lambda: staff_make(other, Role.MODERATOR),
    }[who]()
    client = client_for(person, "en")
    households = Household.objects.count()
    for name in ("roster:home", "roster:upload", "roster:residents", "roster:staff"):
        page = client.get(reverse(name, args=["gyl"]))
        assert page.status_code == 403
        assert "Only this community's moderators can manage its roster and accounts." in html.unescape(page.content.decode())
    assert upload(client, GOOD_ZH.encode()).status_code == 403
    assert Household.objects.count() == households and not RosterUpload.objects.exists()


def test_anonymous_is_sent_to_log_in(community) -> None:  # type: ignore[no-untyped-def]
    user_make("nobody")
    response = Client().get(reverse("roster:upload", args=["gyl"]))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_command_reads_the_same_files(community, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from io import StringIO

    from django.core.management import call_command

    path = tmp_path / "roster.csv"
    path.write_bytes(GOOD_ZH.encode("gbk"))
    out = StringIO()
    call_command("import_roster", str(path), community="gyl", stdout=out, stderr=StringIO())
    assert "created 2 household" in out.getvalue()
    out = StringIO()
    call_command("import_roster", str(path), community="gyl", stdout=out, stderr=StringIO())
    assert out.getvalue().strip() == "Nothing changed: the roster is already up to date."
