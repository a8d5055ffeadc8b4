"""The progress of a decision: the numbers of one selector on a small world, the page, who may see
it, and counts of choices hidden while voting is open unless the decision shows them."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from tests.voting.decisions.helpers import DecisionWorld, all_yes, choice_of, open_decision, unit_of
from voting.decisions.ballots import vote_record
from voting.decisions.progress.selectors import progress_of
from voting.models import Channel, Decision


def _vote(w: DecisionWorld, d: Decision, i: int, channel: str, **kwargs: object) -> None:
    vote_record(decision=d, unit=unit_of(d, w.households[i]), choices=all_yes(d), channel=channel, **kwargs)  # type: ignore[arg-type]


def test_progress_counts_owners_and_area_against_two_thirds_per_building_and_channel(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    _vote(dw, d, 0, Channel.ONLINE, voter=dw.owners[0])  # 1号楼 80.50
    _vote(dw, d, 1, Channel.DOOR, recorded_by=dw.grid_worker, assisted_reason="老人不会用手机")  # 1号楼 95.00
    _vote(dw, d, 3, Channel.PAPER, recorded_by=dw.clerk)  # 2号楼 60.00
    p = progress_of(d)
    # Art. 278: the headcount goes by the owners with an area on record (6 of 7 units), as the result does.
    assert p["headcount"] == {
        "voted": 3,
        "base": 6,
        "needed": 4,
        "short": 1,
        "percent": "50",
        "width": "50.00",
        "met": False,
    }
    assert p["area"]["voted"] == "235.50" and p["area"]["base"] == "519.50"
    assert p["area"]["needed"] == "346.34" and p["area"]["percent"] == "45.3" and not p["area"]["met"]
    assert not p["quorum_met"]
    by_name = {b["name"]: b for b in p["buildings"]}
    assert [b["name"] for b in p["buildings"]] == ["1号楼", "2号楼", "3号楼"]
    assert (by_name["1号楼"]["headcount"]["voted"], by_name["1号楼"]["headcount"]["base"]) == (2, 3)
    assert (by_name["1号楼"]["area"]["voted"], by_name["1号楼"]["area"]["base"]) == ("175.50", "295.75")
    assert (by_name["2号楼"]["headcount"]["voted"], by_name["2号楼"]["area"]["voted"]) == (1, "60.00")
    assert (by_name["3号楼"]["headcount"]["base"], by_name["3号楼"]["area"]["base"]) == (1, "88.00")
    channels = {c["code"]: c["count"] for c in p["channels"]}
    assert channels == {"online": 1, "paper": 1, "door": 1, "proxy": 0, "in_person": 0}

    # A fourth owner: 4 of 6 is two thirds exactly (3 × 4 ≥ 2 × 6), the headcount bar is met;
    # 355.25 m² of 519.50 is more than two thirds of the area too.
    _vote(dw, d, 2, Channel.ONLINE, voter=dw.owners[2])  # 1号楼 120.25
    p = progress_of(d)
    assert p["headcount"]["met"] and p["headcount"]["short"] == 0
    assert p["area"]["voted"] == "355.75" and p["area"]["met"] and p["quorum_met"]


def test_an_ordinary_decision_counts_every_unit_by_headcount(dw: DecisionWorld) -> None:
    from voting.decisions.lifecycle import MatterSpec

    d = open_decision(dw, matters=[MatterSpec(text="楼道灯改为声控")])
    p = progress_of(d)
    assert p["headcount"]["base"] == 7 and not p["art278"]


def text(html: str) -> str:
    """What a reader sees: the page without its tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _client(user: object) -> Client:
    c = Client()
    c.force_login(user)  # type: ignore[arg-type]
    return c


@pytest.mark.django_db
def test_the_page_for_members_and_refused_to_others(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    _vote(dw, d, 0, Channel.ONLINE, voter=dw.owners[0])
    url = f"/decisions/{d.pk}/progress/"
    for member in (dw.moderator, dw.owners[1], dw.tenant, dw.grid_worker):
        page = _client(member).get(url)
        assert page.status_code == 200
        html = text(page.content.decode())
        assert "1 / 6" in html and "80.50 / 519.50" in html and "1号楼" in html
    assert _client(dw.outsider).get(url).status_code == 404  # not a member: the decision is not shown to exist
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert _client(dw.moderator).get("/decisions/999999/progress/").status_code == 404


@pytest.mark.django_db
def test_a_draft_is_shown_to_its_moderators_only(dw: DecisionWorld) -> None:
    from tests.voting.decisions.helpers import draft_decision

    d = draft_decision(dw)
    assert _client(dw.moderator).get(f"/decisions/{d.pk}/progress/").status_code == 200
    assert _client(dw.owners[0]).get(f"/decisions/{d.pk}/progress/").status_code == 404


@pytest.mark.django_db
def test_counts_of_choices_are_hidden_while_open_unless_the_decision_shows_them(dw: DecisionWorld) -> None:
    hidden = open_decision(dw, secret=False, results_live=False)
    vote_record(
        decision=hidden, unit=unit_of(hidden, dw.households[0]), choices=choice_of(hidden, "no"), channel=Channel.ONLINE, voter=dw.owners[0]
    )
    owner_page = _client(dw.owners[1]).get(f"/decisions/{hidden.pk}/progress/").content.decode()
    assert "counts-hidden" in owner_page and "matter-counts" not in owner_page
    assert "1 / 6" in text(owner_page)  # participation is for every member
    moderator_page = _client(dw.moderator).get(f"/decisions/{hidden.pk}/progress/").content.decode()
    assert "matter-counts" in moderator_page

    shown = open_decision(dw, secret=False, results_live=True)
    vote_record(
        decision=shown, unit=unit_of(shown, dw.households[0]), choices=choice_of(shown, "no"), channel=Channel.ONLINE, voter=dw.owners[0]
    )
    owner_page = _client(dw.owners[1]).get(f"/decisions/{shown.pk}/progress/").content.decode()
    assert "matter-counts" in owner_page and "counts-hidden" not in owner_page

    secret = open_decision(dw, secret=True, results_live=True)
    page = _client(dw.moderator).get(f"/decisions/{secret.pk}/progress/").content.decode()
    assert "matter-counts" not in page  # sealed until the close, whoever reads


def test_area_percent_and_decimal_base(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    assert progress_of(d)["area"]["base"] == str(Decimal("519.50"))
