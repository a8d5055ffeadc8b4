"""Door to door (扫楼): a grid worker records an owner's ballot for a unit of their grids'
buildings, marked assisted with the reason and audited; the 扫楼 list of units not yet voted,
printable and as CSV; every refusal of a permission (voting/decisions/door/)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import translation

from agora.infra.errors import NotAllowed, Refused
from agora.roster.audit import KIND_LABELS
from agora.roster.models import AuditEvent, Building, Resident, Role
from tests.factories import staff_make
from tests.voting.decisions.helpers import DecisionWorld, all_yes, choice_of, draft_decision, open_decision, unit_of
from voting.decisions.ballots import vote_record
from voting.decisions.door import selectors, services
from voting.decisions.rules import decision_facts
from voting.models import Channel, Decision, DecisionVote, Motion, Participation
from voting.units import decision_units

pytestmark = pytest.mark.django_db


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def zh(client: Client) -> Client:
    client.cookies["django_language"] = "zh-hans"
    return client


def en(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def ballot_url(d: Decision) -> str:
    return reverse("decisions:door_ballot", kwargs={"decision_id": d.pk})


def form_of(d: Decision, unit_key: str, choices: dict[int, list[int]], reason: str = "phone", text: str = "", **extra: str) -> dict:
    data: dict[str, object] = {"unit": unit_key, "reason": reason, "reason_text": text, "idempotency_key": "k-" + unit_key, **extra}
    for matter_id, ids in choices.items():
        data[f"m{matter_id}"] = [str(i) for i in ids]
    return data


def test_a_grid_worker_records_an_owners_ballot_marked_assisted_and_audited(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    unit = unit_of(d, dw.households[0])
    recorded = services.door_vote_record(
        decision=d, by=dw.grid_worker, unit_key=unit.unit_key, choices=all_yes(d), reason="phone", reason_text="女儿在外地"
    )
    vote = DecisionVote.objects.get(decision=d, unit_key=unit.unit_key)
    assert vote.channel == Channel.DOOR and vote.recorded_by == dw.grid_worker and vote.voter is None
    assert vote.assisted_reason == "老人不会用手机：女儿在外地"
    assert recorded.receipt and not recorded.replayed
    assert Participation.objects.filter(motion__decision=d, unit_key=unit.unit_key, channel=Channel.DOOR).count() == 2
    event = AuditEvent.objects.get(kind="decision.door_vote")
    assert event.actor == dw.grid_worker and event.detail["assisted"] is True and event.detail["unit"] == "1号楼-1-101"
    assert "decision.door_vote" in KIND_LABELS


def test_a_unit_outside_the_grid_workers_buildings_is_refused(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    elsewhere = unit_of(d, dw.households[3])  # 2号楼
    with pytest.raises(NotAllowed):
        services.door_vote_record(decision=d, by=dw.grid_worker, unit_key=elsewhere.unit_key, choices=all_yes(d), reason="phone")
    client = en(client_of(dw.grid_worker))
    page = client.get(ballot_url(d), {"unit": elsewhere.unit_key})
    assert page.status_code == 403 and "not in the buildings of your grids" in page.content.decode()
    posted = client.post(ballot_url(d), form_of(d, elsewhere.unit_key, all_yes(d), confirmed="1"))
    assert posted.status_code == 403
    assert not DecisionVote.objects.filter(decision=d).exists()


def test_a_moderator_records_door_to_door_in_any_building(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    unit = unit_of(d, dw.households[5])  # 3号楼: no grid worker
    services.door_vote_record(decision=d, by=dw.moderator, unit_key=unit.unit_key, choices=all_yes(d), reason="sight")
    assert DecisionVote.objects.get(decision=d).assisted_reason == "视力不便"


def test_everyone_else_is_refused_the_door_pages(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    unit = unit_of(d, dw.households[0])
    observer = staff_make(dw.community, Role.OBSERVER, "obs")
    other_moderator = staff_make(dw.outsider.residencies.get().community, Role.MODERATOR, "farmod")
    pages = [
        reverse("decisions:door_start", kwargs={"decision_id": d.pk}),
        ballot_url(d) + "?unit=" + unit.unit_key,
        reverse("decisions:door_list", kwargs={"decision_id": d.pk}),
        reverse("decisions:door_list_csv", kwargs={"decision_id": d.pk}),
    ]
    for url in pages:
        for person in (dw.owners[0], dw.tenant, observer):
            assert client_of(person).get(url).status_code == 403, (url, person)
        assert client_of(other_moderator).get(url).status_code == 404, url
        assert client_of(dw.outsider).get(url).status_code == 404, url
        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and "/login" in anonymous["Location"], url
    # and the write itself
    with pytest.raises(NotAllowed):
        services.door_vote_record(decision=d, by=dw.owners[1], unit_key=unit.unit_key, choices=all_yes(d), reason="phone")
    with pytest.raises(NotAllowed):
        services.door_vote_record(decision=d, by=observer, unit_key=unit.unit_key, choices=all_yes(d), reason="phone")
    assert client_of(dw.owners[0]).post(ballot_url(d), form_of(d, unit.unit_key, all_yes(d), confirmed="1")).status_code == 403
    assert not DecisionVote.objects.filter(decision=d).exists()


def test_the_phone_flow_shows_the_unit_checks_then_records_and_gives_the_receipt(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    unit = unit_of(d, dw.households[1])
    client = zh(client_of(dw.grid_worker))
    start = client.get(reverse("decisions:door_start", kwargs={"decision_id": d.pk}), {"room": "102"}).content.decode()
    assert "1号楼-1-102" in start and "1号楼-1-101" not in start and "2号楼" not in start
    form = client.get(ballot_url(d), {"unit": unit.unit_key}).content.decode()
    assert "owner1102" in form and "95.00" in form and "投票权数" in form and "老人不会用手机" in form and "视力不便" in form
    data = form_of(d, unit.unit_key, choice_of(d, "no"))
    check = client.post(ballot_url(d), data).content.decode()
    assert "核对" in check and "反对" in check
    assert not DecisionVote.objects.filter(decision=d).exists()  # nothing recorded before the owner confirms
    done = client.post(ballot_url(d), {**data, "confirmed": "1"})
    receipt = DecisionVote.objects.get(decision=d, unit_key=unit.unit_key)
    assert receipt.channel == Channel.DOOR
    assert 'id="receipt-code"' in done.content.decode()
    # The same submission again (a double tap) gets the same receipt and records nothing more.
    again = client.post(ballot_url(d), {**data, "confirmed": "1"})
    code = done.context["recorded"].receipt
    assert again.context["recorded"].replayed and again.context["recorded"].receipt == code
    assert DecisionVote.objects.filter(decision=d).count() == 1


def test_a_missing_reason_or_choice_is_said_and_keeps_what_was_marked(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    unit = unit_of(d, dw.households[0])
    client = en(client_of(dw.grid_worker))
    first, second = list(Motion.objects.filter(decision=d).order_by("position"))
    yes = all_yes(d)
    page = client.post(ballot_url(d), form_of(d, unit.unit_key, {first.pk: yes[first.pk]}))
    assert "matter 2 has none" in page.content.decode()
    page = client.post(ballot_url(d), form_of(d, unit.unit_key, yes, reason="other"))
    html = page.content.decode()
    assert "Please write why the owner was helped." in html
    assert f'value="{yes[first.pk][0]}" checked' in html and f'value="{yes[second.pk][0]}" checked' in html
    assert not DecisionVote.objects.filter(decision=d).exists()
    with pytest.raises(Refused):
        services.door_reason_text("made-up", "")


def test_a_unit_that_voted_online_is_refused_with_how_and_when(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    unit = unit_of(d, dw.households[0])
    vote_record(decision=d, unit=unit, choices=all_yes(d), channel=Channel.ONLINE, voter=dw.owners[0])
    with translation.override("en"), pytest.raises(Refused) as refused:
        services.door_vote_record(decision=d, by=dw.grid_worker, unit_key=unit.unit_key, choices=all_yes(d), reason="phone")
    assert "already voted online, at" in str(refused.value)
    page = en(client_of(dw.grid_worker)).get(ballot_url(d), {"unit": unit.unit_key}).content.decode()
    assert "This unit has already voted (Online)" in page and 'name="confirmed"' not in page


def test_before_the_period_the_ballot_form_says_when_it_opens(dw: DecisionWorld) -> None:
    d = draft_decision(dw)
    from voting.decisions.lifecycle import decision_announce

    decision_announce(decision=d, by=dw.moderator)
    unit = unit_of(d, dw.households[0])
    page = en(client_of(dw.grid_worker)).get(ballot_url(d), {"unit": unit.unit_key}).content.decode()
    assert "opens at" in page and '<form method="post"' not in page


def test_the_canvass_list_shows_only_units_not_voted_in_the_grid_workers_buildings(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    Resident.objects.filter(user=dw.owners[1]).update(phone="13800001102")
    services.door_vote_record(
        decision=d, by=dw.grid_worker, unit_key=unit_of(d, dw.households[0]).unit_key, choices=all_yes(d), reason="phone"
    )
    f = decision_facts(user=dw.grid_worker, decision=d)
    listed = selectors.canvass_buildings(d, f)
    assert [b.name for b in listed] == ["1号楼"]
    assert [r.unit.label for r in listed[0].units] == ["1号楼-1-102", "1号楼-1-201"]
    page = client_of(dw.grid_worker).get(reverse("decisions:door_list", kwargs={"decision_id": d.pk})).content.decode()
    assert "13800001102" in page and 'href="tel:13800001102"' in page and "1号楼-1-101" not in page and "2号楼" not in page
    assert "css/decisions-door.css" in page and "@media print" in Path("static/css/decisions-door.css").read_text(encoding="utf-8")
    everything = selectors.canvass_buildings(d, decision_facts(user=dw.moderator, decision=d))
    assert [b.name for b in everything] == ["1号楼", "2号楼", "3号楼"]
    assert sum(len(b.units) for b in everything) == 6  # 7 households, 1 voted


def test_the_canvass_csv_neutralises_formulas(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    dw.owners[1].first_name = '=HYPERLINK("http://evil","x")'
    dw.owners[1].save()
    Resident.objects.filter(user=dw.owners[1]).update(phone="+8613800001102")
    response = client_of(dw.grid_worker).get(reverse("decisions:door_list_csv", kwargs={"decision_id": d.pk}))
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    row = next(r for r in rows if r[1] == "1号楼-1-102")
    assert row[2] == '\'=HYPERLINK("http://evil","x")' and row[3] == "'+8613800001102" and row[4] == "95.00"
    assert {r[0] for r in rows[1:]} == {"1号楼"}


def test_a_unit_without_area_in_an_art278_decision_is_refused_with_the_reason(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    unit = unit_of(d, dw.no_area_household)
    page = en(client_of(dw.moderator)).get(ballot_url(d), {"unit": unit.unit_key}).content.decode()
    assert "3号楼-1-102 has no floor area on record" in page and 'class="door-ballot"' not in page
    with translation.override("en"):
        with pytest.raises(Refused) as refused:
            services.door_vote_record(decision=d, by=dw.moderator, unit_key=unit.unit_key, choices=all_yes(d), reason="phone")
        assert "has no floor area on record" in str(refused.value)
    assert not DecisionVote.objects.filter(decision=d).exists()


def test_a_large_roster_is_shown_one_building_at_a_time(dw: DecisionWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    from voting.decisions.door import views

    monkeypatch.setattr(views, "UNITS_ON_ONE_PAGE", 2)
    d = open_decision(dw)
    services.door_vote_record(
        decision=d, by=dw.moderator, unit_key=unit_of(d, dw.households[3]).unit_key, choices=all_yes(d), reason="sight"
    )
    start = reverse("decisions:door_start", kwargs={"decision_id": d.pk})
    page = en(client_of(dw.moderator)).get(start)
    assert [(s.name, s.voted, s.total) for s in page.context["summaries"]] == [("1号楼", 0, 3), ("2号楼", 1, 2), ("3号楼", 0, 2)]
    assert "1号楼-1-101" not in page.content.decode()
    two = Building.objects.get(community=dw.community, name="2号楼")
    one_building = en(client_of(dw.moderator)).get(start, {"building": two.pk}).content.decode()
    assert "2号楼-1-101" in one_building and "2号楼-1-102" in one_building and "1号楼" not in one_building.split("</h1>", 1)[1]
    # A grid worker's own buildings past the limit: picked the same way; another building's is empty.
    mine = en(client_of(dw.grid_worker)).get(start)
    assert [s.name for s in mine.context["summaries"]] == ["1号楼"]
    assert en(client_of(dw.grid_worker)).get(start, {"building": two.pk}).context["buildings"] == []
    listing = en(client_of(dw.moderator)).get(reverse("decisions:door_list", kwargs={"decision_id": d.pk}))
    assert listing.context["waiting"] == 6 and [s.waiting for s in listing.context["summaries"]] == [3, 1, 2]


def test_an_owners_unit_read_by_building_keeps_its_other_buildings_area(dw: DecisionWorld) -> None:
    from agora.roster.models import Household

    Household.objects.filter(pk=dw.households[4].pk).update(owner_key=dw.households[0].owner_key)  # one owner: 1号楼-101 and 2号楼-102
    d = open_decision(dw)
    both = [u for u in decision_units(d, building_ids={dw.households[0].building_id}) if len(u.household_ids) == 2]
    assert len(both) == 1 and both[0].area == Decimal("156.25") and both[0].labels == ["1号楼-1-101", "2号楼-1-102"]
    assert decision_units(d, building_id=dw.households[4].building_id)[0].area == Decimal("156.25")
    assert len(decision_units(d)) == 6
