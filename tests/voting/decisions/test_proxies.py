"""Proxies (委托书): a moderator records who votes for which unit, on what paper (an image or PDF,
size-limited, type-checked, stored with a random name, served to the community's moderators
only); one principal per holder unless the decision allows more; refused for a unit that voted;
revoked before the holder votes, refused after; the holder votes for the principal's unit, and
separately for their own; the result's "由 X 代为表决" (voting/decisions/door/)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from agora.infra import clock
from agora.infra.errors import NotAllowed, Refused
from agora.roster.models import AuditEvent, Role
from tests.factories import staff_make
from tests.voting.decisions.helpers import DecisionWorld, all_yes, choice_of, open_decision, unit_of
from voting.decisions.ballots import proxies_held, vote_record
from voting.decisions.door import selectors, services
from voting.decisions.door.services import ProxyTerms
from voting.decisions.records import proxy_votes
from voting.decisions.rules import decision_facts
from voting.models import Channel, Decision, DecisionVote, Proxy, ProxyKind
from voting.units import unit_of_user

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 64


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


def png(name: str = "委托书.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def terms(d: Decision, kind: str = ProxyKind.PROXY) -> ProxyTerms:
    return ProxyTerms(kind, "本次表决的全部事项", clock.now() - timedelta(hours=1), d.closes_at)


def record(dw: DecisionWorld, d: Decision, household: int, holder: User, **kw: object) -> Proxy:
    return services.proxy_record(
        decision=d,
        by=dw.moderator,
        principal_unit_key=unit_of(d, dw.households[household]).unit_key,
        holder=holder,
        terms=kw.pop("terms", None) or terms(d),  # type: ignore[arg-type]
        document=kw.pop("document", None) or png(),  # type: ignore[arg-type]
    )


def client_of(user: User, language: str = "en") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def test_a_moderator_records_a_proxy_with_its_signed_paper_kept_under_a_random_name(dw: DecisionWorld, media: Path) -> None:
    d = open_decision(dw)
    proxy = record(dw, d, 0, dw.tenant)  # a family member living in the unit, not its owner
    assert proxy.holder == dw.tenant and proxy.kind == ProxyKind.PROXY and proxy.revoked_at is None
    name = Path(proxy.document.name)
    assert name.suffix == ".png" and "委托书" not in name.name and len(name.stem) >= 30
    assert (media / proxy.document.name).read_bytes() == PNG
    event = AuditEvent.objects.get(kind="decision.proxy_recorded")
    assert event.actor == dw.moderator and event.detail["unit"] == "1号楼-1-101"


def test_the_signed_paper_is_served_only_to_the_communitys_moderators(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    proxy = record(dw, d, 0, dw.tenant)
    url = reverse("decisions:door_proxy_document", kwargs={"decision_id": d.pk, "proxy_id": proxy.pk})
    shown = client_of(dw.moderator).get(url)
    assert shown.status_code == 200 and shown["Content-Type"] == "image/png" and shown.content == PNG
    assert shown["X-Content-Type-Options"] == "nosniff"
    other_moderator = staff_make(dw.outsider.residencies.get().community, Role.MODERATOR, "farmod")
    for person in (dw.tenant, dw.owners[0], dw.grid_worker, other_moderator, dw.outsider):
        assert client_of(person).get(url).status_code == 404, person
    assert Client().get(url).status_code == 302


@pytest.mark.parametrize(
    ("document", "sentence"),
    [
        (SimpleUploadedFile("a.png", b"<script>alert(1)</script>", content_type="image/png"), "must be a photo"),
        (SimpleUploadedFile("a.html", b"<html></html>", content_type="text/html"), "must be a photo"),
        (SimpleUploadedFile("a.pdf", b"", content_type="application/pdf"), "is empty"),
        (SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + b"0" * (10 * 1024 * 1024), content_type="image/jpeg"), "at most 10 MB"),
    ],
)
def test_a_document_that_is_no_image_or_pdf_or_too_big_is_refused(dw: DecisionWorld, document: SimpleUploadedFile, sentence: str) -> None:
    d = open_decision(dw)
    with translation.override("en"):
        with pytest.raises(Refused) as refused:
            record(dw, d, 0, dw.tenant, document=document)
        assert sentence in str(refused.value)
    assert not Proxy.objects.exists()


def test_a_pdf_scan_is_accepted(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    proxy = record(dw, d, 0, dw.tenant, document=SimpleUploadedFile("scan.pdf", PDF, content_type="application/pdf"))
    assert proxy.document.name.endswith(".pdf")


def test_a_proxy_for_a_unit_that_voted_is_refused_with_how_and_when(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    unit = unit_of(d, dw.households[0])
    services.door_vote_record(decision=d, by=dw.grid_worker, unit_key=unit.unit_key, choices=all_yes(d), reason="sight")
    with translation.override("en"), pytest.raises(Refused) as refused:
        record(dw, d, 0, dw.tenant)
    assert "already voted door to door, with a grid worker, at" in str(refused.value)


def test_one_principal_per_holder_unless_the_decision_allows_more(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    record(dw, d, 0, dw.tenant)
    with translation.override("en"), pytest.raises(Refused) as refused:
        record(dw, d, 1, dw.tenant)
    assert "as many proxies in this decision as one holder may (1)" in str(refused.value)
    Decision.objects.filter(pk=d.pk).update(proxies_per_holder=2)
    d.refresh_from_db()
    record(dw, d, 1, dw.tenant)
    assert Proxy.objects.filter(holder=dw.tenant, revoked_at__isnull=True).count() == 2
    # One live proxy per principal.
    with translation.override("en"), pytest.raises(Refused) as refused:
        record(dw, d, 1, dw.owners[4])
    assert "already has a proxy, held by tenant1" in str(refused.value)


def test_an_owner_holds_no_proxy_for_their_own_unit(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    with translation.override("en"), pytest.raises(Refused) as refused:
        record(dw, d, 0, dw.owners[0])
    assert "votes for it themselves" in str(refused.value)


def test_only_moderators_record_and_revoke_proxies(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    proxy = record(dw, d, 0, dw.tenant)
    for person in (dw.grid_worker, dw.owners[0], dw.tenant):
        with pytest.raises(NotAllowed):
            services.proxy_record(
                decision=d,
                by=person,
                principal_unit_key=unit_of(d, dw.households[1]).unit_key,
                holder=dw.owners[0],
                terms=terms(d),
                document=png(),
            )
        with pytest.raises(NotAllowed):
            services.proxy_revoke(proxy=proxy, by=person, reason="x")
    urls = [
        reverse("decisions:door_proxies", kwargs={"decision_id": d.pk}),
        reverse("decisions:door_proxy_revoke", kwargs={"decision_id": d.pk, "proxy_id": proxy.pk}),
    ]
    for url in urls:
        for person in (dw.grid_worker, dw.owners[0], dw.tenant):
            assert client_of(person).get(url).status_code == 403, (url, person)
            assert client_of(person).post(url, {"reason": "x", "confirm": "on"}).status_code == 403, (url, person)
        assert client_of(dw.outsider).get(url).status_code == 404
        assert Client().get(url).status_code == 302
    proxy.refresh_from_db()
    assert proxy.revoked_at is None


def test_the_moderator_records_a_proxy_through_the_page(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    client = client_of(dw.moderator)
    url = reverse("decisions:door_proxies", kwargs={"decision_id": d.pk})
    unit = unit_of(d, dw.households[2])
    local = timezone.localtime(clock.now())
    data = {
        "unit": unit.unit_key,
        "holder": "tenant1",
        "kind": ProxyKind.GUARDIAN,
        "scope": "全部事项",
        "valid_from": (local - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "valid_until": timezone.localtime(d.closes_at).strftime("%Y-%m-%dT%H:%M"),
    }
    missing = client.post(url, {**data, "holder": "nobody", "document": png()})
    html = missing.content.decode()
    assert "no active account with the login “nobody”" in html and 'value="全部事项"' in html
    assert "Please choose the file again" in html
    done = client.post(url, {**data, "document": png()})
    assert done.status_code == 302
    proxy = Proxy.objects.get(decision=d)
    assert proxy.kind == ProxyKind.GUARDIAN and proxy.holder == dw.tenant and proxy.principal_unit_key == unit.unit_key
    listing = client.get(url).content.decode()
    assert "1号楼-1-201" in listing and "Guardian" in listing and "Revoke" in listing


def test_the_holder_votes_for_the_principal_and_separately_for_their_own_unit(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    holder = dw.owners[3]  # owns 2号楼-101, holds the proxy for 1号楼-101
    proxy = record(dw, d, 0, holder)
    client = client_of(holder, "zh-hans")
    start = client.get(reverse("decisions:door_start", kwargs={"decision_id": d.pk})).content.decode()
    assert "您受托为owner1101（1号楼-1-101）投票" in start
    url = reverse("decisions:door_proxy_ballot", kwargs={"decision_id": d.pk, "proxy_id": proxy.pk})
    data: dict[str, object] = {"idempotency_key": "proxy-1"}
    data.update({f"m{k}": [str(i) for i in v] for k, v in choice_of(d, "no").items()})
    check = client.post(url, data).content.decode()
    assert "核对" in check and not DecisionVote.objects.filter(decision=d).exists()
    done = client.post(url, {**data, "confirmed": "1"})
    assert 'id="receipt-code"' in done.content.decode()
    vote = DecisionVote.objects.get(decision=d, unit_key=proxy.principal_unit_key)
    assert vote.channel == Channel.PROXY and vote.voter == holder and vote.proxy == proxy
    assert AuditEvent.objects.filter(kind="decision.proxy_vote", actor=holder).count() == 1
    with translation.override("en"):
        held = proxies_held(decision=d, user=holder)
        assert [(h.proxy_id, h.unit_label, h.voted) for h in held] == [(proxy.pk, "1号楼-1-101", "By proxy")]
    assert "为该户投票" not in client.get(reverse("decisions:door_start", kwargs={"decision_id": d.pk})).content.decode()
    own, _reason = unit_of_user(d, holder.pk)
    assert own is not None
    vote_record(decision=d, unit=own, choices=all_yes(d), channel=Channel.ONLINE, voter=holder)
    assert DecisionVote.objects.filter(decision=d).count() == 2
    # The result's "由 X 代为表决".
    assert [(r["unit"], r["holder"]) for r in proxy_votes(d)] == [("1号楼-1-101", "owner2101")]


def test_someone_elses_proxy_ballot_is_not_found(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    proxy = record(dw, d, 0, dw.tenant)
    url = reverse("decisions:door_proxy_ballot", kwargs={"decision_id": d.pk, "proxy_id": proxy.pk})
    for person in (dw.owners[1], dw.grid_worker, dw.moderator):
        assert client_of(person).get(url).status_code == 404
    with pytest.raises(NotAllowed):
        services.proxy_vote_record(decision=d, holder=dw.owners[1], proxy=proxy, choices=all_yes(d))


def test_revoking_before_the_holder_votes_and_not_after(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    proxy = record(dw, d, 0, dw.tenant)
    client = client_of(dw.moderator)
    url = reverse("decisions:door_proxy_revoke", kwargs={"decision_id": d.pk, "proxy_id": proxy.pk})
    page = client.get(url).content.decode()
    assert "the holder can no longer vote for this unit" in page
    unconfirmed = client.post(url, {"reason": "业主本人回来了"})
    assert unconfirmed.status_code == 200 and "业主本人回来了</textarea>" in unconfirmed.content.decode()  # kept as typed
    proxy.refresh_from_db()
    assert proxy.revoked_at is None  # nothing without the confirmation
    assert client.post(url, {"reason": "业主本人回来了", "confirm": "on"}).status_code == 302
    proxy.refresh_from_db()
    assert proxy.revoked_at is not None and proxy.revoked_by == dw.moderator and proxy.revoke_reason == "业主本人回来了"
    assert AuditEvent.objects.filter(kind="decision.proxy_revoked").count() == 1
    with translation.override("en"), pytest.raises(Refused) as refused:
        services.proxy_vote_record(decision=d, holder=dw.tenant, proxy=proxy, choices=all_yes(d))
    assert "revoked" in str(refused.value)
    # A new proxy for the unit, used, then no longer revocable.
    second = record(dw, d, 0, dw.owners[5])
    services.proxy_vote_record(decision=d, holder=dw.owners[5], proxy=second, choices=all_yes(d))
    with translation.override("en"), pytest.raises(Refused) as refused:
        services.proxy_revoke(proxy=second, by=dw.moderator, reason="晚了")
    assert "already voted with this proxy at" in str(refused.value)
    second.refresh_from_db()
    assert second.revoked_at is None
    listing = client.get(reverse("decisions:door_proxies", kwargs={"decision_id": d.pk})).content.decode()
    assert listing.count("/revoke/") == 0  # neither the revoked one nor the used one offers it


def test_a_proxy_outside_its_dates_does_not_vote(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    later = ProxyTerms(ProxyKind.PROXY, "", clock.now() + timedelta(days=2), d.closes_at)
    proxy = record(dw, d, 0, dw.tenant, terms=later)
    with translation.override("en"), pytest.raises(Refused) as refused:
        services.proxy_vote_record(decision=d, holder=dw.tenant, proxy=proxy, choices=all_yes(d))
    assert "not valid at this time" in str(refused.value)


def test_the_canvass_list_names_the_proxy_holder(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    record(dw, d, 1, dw.tenant)
    rows = selectors.canvass_buildings(d, decision_facts(user=dw.grid_worker, decision=d))[0].units
    assert [r.proxy_holder for r in rows if r.unit.label == "1号楼-1-102"] == ["tenant1"]


def test_the_door_ballot_links_the_proxy_form_for_that_unit_only(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    unit = unit_of(d, dw.households[2])
    client = client_of(dw.moderator)
    ballot = client.get(reverse("decisions:door_ballot", kwargs={"decision_id": d.pk}), {"unit": unit.unit_key}).content.decode()
    assert "?unit=" in ballot and "record it" in ballot
    page = client.get(reverse("decisions:door_proxies", kwargs={"decision_id": d.pk}), {"unit": unit.unit_key})
    assert [key for key, _label in page.context["form"].fields["unit"].choices if key] == [unit.unit_key]
    assert len(client.get(reverse("decisions:door_proxies", kwargs={"decision_id": d.pk})).context["form"].fields["unit"].choices) == 8
