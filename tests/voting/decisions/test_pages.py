"""The pages of an owners' decision, through Django's test client: the moderator's draft and
steps, the decision page, the owner's online ballot and every refusal of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from agora.infra import clock
from tests.voting.decisions.helpers import DecisionWorld, all_yes, draft_decision, open_decision, unit_of
from voting.decisions.ballots import vote_record
from voting.decisions.lifecycle import decision_announce, decision_close_due
from voting.models import Channel, Decision, DecisionState, DecisionVote, Motion, MotionKind, StepKind

pytestmark = pytest.mark.django_db


def client_for(user, language: str = "zh-hans") -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    c.cookies["django_language"] = language
    return c


def local(dt) -> str:  # type: ignore[no-untyped-def]
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def create_post(**over: str) -> dict[str, str]:
    now = clock.now()
    data = {
        "rows": "3",
        "title": "关于更换电梯的业主共同决定",
        "description": "电梯已使用二十年。",
        "unit_mode": "owner",
        "secret": "on",
        "opens_at": local(now + timedelta(days=16)),
        "closes_at": local(now + timedelta(days=26)),
        "notice_days": "15",
        "objection_days": "3",
        "proxies_per_holder": "1",
        "m1_text": "使用维修资金更换3部电梯",
        "m1_kind": "art278_major",
        "m1_options": "",
        "m1_description": "报价120万元。",
        "m2_text": "选择电梯品牌",
        "m2_kind": "single",
        "m2_options": "三菱\n日立\n奥的斯",
        "m2_description": "",
        "m3_text": "",
        "m3_kind": "art278",
        "m3_options": "",
        "m3_description": "",
    }
    data.update(over)
    return data


# --- the moderator -------------------------------------------------------------------------


def test_the_moderator_creates_a_decision_with_two_matters(dw: DecisionWorld) -> None:
    c = client_for(dw.moderator)
    page = c.get(f"/decisions/c/{dw.community.slug}/new/")
    assert page.status_code == 200 and "m3_text" in page.content.decode()
    response = c.post(f"/decisions/c/{dw.community.slug}/new/", create_post())
    d = Decision.objects.get(title="关于更换电梯的业主共同决定")
    assert response.status_code == 302 and response["Location"] == f"/decisions/{d.pk}/"
    matters = list(Motion.objects.filter(decision=d).order_by("position"))
    assert [(m.kind, m.major_matter) for m in matters] == [(MotionKind.ART278, True), (MotionKind.SINGLE, False)]
    assert [o.label for o in matters[1].options.order_by("position")] == ["三菱", "日立", "奥的斯"]
    detail = c.get(f"/decisions/{d.pk}/").content.decode()
    assert "草稿" in detail and "使用维修资金更换3部电梯" in detail and 'id="announce"' in detail


def test_bad_input_gets_a_sentence_and_keeps_every_typed_value(dw: DecisionWorld) -> None:
    c = client_for(dw.moderator)
    now = clock.now()
    bad = create_post(closes_at=local(now + timedelta(days=10)), m2_options="只有一个")
    page = c.post(f"/decisions/c/{dw.community.slug}/new/", bad).content.decode()
    assert "至少需要两个选项" in page
    fixed = create_post(closes_at=local(now + timedelta(days=10)))
    page = c.post(f"/decisions/c/{dw.community.slug}/new/", fixed).content.decode()
    assert "投票截止时间必须晚于开始时间" in page  # the lifecycle's sentence, above the form
    for typed in ("关于更换电梯的业主共同决定", "电梯已使用二十年。", "使用维修资金更换3部电梯", "报价120万元。", "三菱\n日立\n奥的斯"):
        assert typed in page
    assert 'value="art278_major" selected' in page
    assert not Decision.objects.exists()


def test_add_a_matter_posts_back_one_more_row_with_nothing_lost(dw: DecisionWorld) -> None:
    c = client_for(dw.moderator)
    page = c.post(f"/decisions/c/{dw.community.slug}/new/", {**create_post(), "add_matter": "1"}).content.decode()
    assert 'name="m4_text"' in page and 'name="rows" value="4"' in page
    assert "使用维修资金更换3部电梯" in page and 'class="error"' not in page
    assert not Decision.objects.exists()


def test_only_a_moderator_creates_and_steps(dw: DecisionWorld) -> None:
    d = draft_decision(dw)
    owner = client_for(dw.owners[0])
    assert owner.get(f"/decisions/c/{dw.community.slug}/new/").status_code == 403
    assert owner.get(f"/decisions/{d.pk}/").status_code == 404  # a draft is for moderators
    grid = client_for(dw.grid_worker)
    assert grid.post(f"/decisions/{d.pk}/announce/").status_code == 404
    announced = draft_decision(dw)
    decision_announce(decision=announced, by=dw.moderator)
    for path, data in [
        ("extend/", {"closes_at": local(announced.closes_at + timedelta(days=3)), "reason": "x", "confirmed": "1"}),
        ("finalize/", {}),
    ]:
        for who in (dw.grid_worker, dw.owners[0], dw.tenant):
            refused = client_for(who).post(f"/decisions/{announced.pk}/{path}", data)
            assert refused.status_code == 403 and "只有本社区的主持人" in refused.content.decode()
    assert client_for(dw.owners[0]).get(f"/decisions/{announced.pk}/discard/").status_code == 403
    assert client_for(dw.outsider).get(f"/decisions/{announced.pk}/").status_code == 404
    outsider = client_for(dw.outsider)
    assert outsider.get(f"/decisions/c/{dw.community.slug}/new/").status_code == 404
    assert outsider.get(f"/decisions/c/{dw.community.slug}/").status_code == 404
    assert Client().get(f"/decisions/{d.pk}/").status_code == 302  # to the login page
    assert Decision.objects.get(pk=d.pk).state == DecisionState.DRAFT


def test_discard_asks_first(dw: DecisionWorld) -> None:
    d = draft_decision(dw)
    c = client_for(dw.moderator)
    assert "不可撤销" in c.get(f"/decisions/{d.pk}/discard/").content.decode()
    c.post(f"/decisions/{d.pk}/discard/")  # no confirmation: nothing happens
    assert Decision.objects.filter(pk=d.pk).exists()
    c.post(f"/decisions/{d.pk}/discard/", {"confirmed": "1"})
    assert not Decision.objects.filter(pk=d.pk).exists()


def test_announce_shows_the_notice_first_and_a_short_notice_needs_a_reason(dw: DecisionWorld) -> None:
    d = draft_decision(dw, days_until_open=5)
    c = client_for(dw.moderator)
    confirm = c.get(f"/decisions/{d.pk}/announce/").content.decode()
    assert "在小区东侧空地增设70个停车位" in confirm and "7个投票单位" in confirm and "缩短公告期的理由" in confirm
    refused = c.post(f"/decisions/{d.pk}/announce/", {"shortened_reason": ""}).content.decode()
    assert "请说明缩短公告期的理由" in refused
    assert Decision.objects.get(pk=d.pk).state == DecisionState.DRAFT
    c.post(f"/decisions/{d.pk}/announce/", {"shortened_reason": "汛期前须完成施工"})
    d.refresh_from_db()
    assert d.state == DecisionState.ANNOUNCED
    step = d.steps.get(kind=StepKind.ANNOUNCED)
    notice = Client().get(f"/decisions/{d.pk}/notices/{step.pk}/").content.decode()  # public
    assert "汛期前须完成施工" in notice and f"第 {step.seq} 号" in notice and step.content_hash in notice
    assert "网上投票" in notice and "书面表决" in notice


def test_extend_and_finalize_need_the_box_ticked(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    c = client_for(dw.moderator)
    new_end = local(d.closes_at + timedelta(days=7))
    page = c.post(f"/decisions/{d.pk}/extend/", {"closes_at": new_end, "reason": "因业主表决票不足"}).content.decode()
    assert "勾选" in page and "因业主表决票不足" in page
    c.post(f"/decisions/{d.pk}/extend/", {"closes_at": new_end, "reason": "因业主表决票不足", "confirmed": "1"})
    d.refresh_from_db()
    assert local(d.closes_at) == new_end
    ext = d.steps.get(kind=StepKind.EXTENDED)
    assert "因业主表决票不足" in Client().get(f"/decisions/{d.pk}/notices/{ext.pk}/").content.decode()
    clock.advance((d.closes_at - clock.now()).total_seconds() + 60)
    assert decision_close_due(decision_id=d.pk)
    d.refresh_from_db()
    early = c.post(f"/decisions/{d.pk}/finalize/", {"counting_officers": "张三\n李四", "confirmed": "1"}).content.decode()
    assert "询异期至" in early or "之后才能" in early
    clock.advance(4 * 86400)
    c.post(f"/decisions/{d.pk}/finalize/", {"counting_officers": "张三\n李四"})
    assert Decision.objects.get(pk=d.pk).state == DecisionState.PRELIMINARY
    c.post(f"/decisions/{d.pk}/finalize/", {"counting_officers": "张三\n李四", "confirmed": "1"})
    d.refresh_from_db()
    assert d.state == DecisionState.FINAL and d.counting_officers == ["张三", "李四"]
    final = d.steps.get(kind=StepKind.FINAL)
    assert "张三" in Client().get(f"/decisions/{d.pk}/notices/{final.pk}/").content.decode()
    assert "已生效" in c.get(f"/decisions/{d.pk}/").content.decode()


# --- the owner's ballot ----------------------------------------------------------------------


def ballot_post(d: Decision, key: str = "k-1", confirmed: bool = True) -> dict[str, str]:
    data = {f"m{m}": str(ids[0]) for m, ids in all_yes(d).items()}
    data["idempotency_key"] = key
    if confirmed:
        data["confirmed"] = "1"
    return data


def test_an_owner_votes_online_confirms_and_gets_a_receipt_and_a_resend_gets_the_same(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    c = client_for(dw.owners[0])
    page = c.get(f"/decisions/{d.pk}/vote/").content.decode()
    assert "1号楼-1-101" in page and "80.50" in page and "赞成" in page and "反对" in page and "弃权" in page
    assert "投票进行中" in page
    confirm = c.post(f"/decisions/{d.pk}/vote/", ballot_post(d, confirmed=False)).content.decode()
    assert "投票确定之前请再核对一次" in confirm and not DecisionVote.objects.exists()
    receipt = c.post(f"/decisions/{d.pk}/vote/", ballot_post(d)).content.decode()
    vote = DecisionVote.objects.get()
    assert vote.channel == Channel.ONLINE and vote.voter == dw.owners[0]
    assert 'id="receipt-code"' in receipt
    code = receipt.split('id="receipt-code">')[1].split("<")[0]
    again = c.post(f"/decisions/{d.pk}/vote/", ballot_post(d)).content.decode()
    assert code in again and DecisionVote.objects.count() == 1
    second = c.post(f"/decisions/{d.pk}/vote/", ballot_post(d, key="k-2")).content.decode()
    assert "在线投票" in second and "只计一次" in second and DecisionVote.objects.count() == 1
    assert "您家已于" in c.get(f"/decisions/{d.pk}/vote/").content.decode()


def test_a_missing_choice_keeps_the_others(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    c = client_for(dw.owners[0])
    data = ballot_post(d, confirmed=False)
    first = Motion.objects.filter(decision=d).order_by("position").first()
    second = Motion.objects.filter(decision=d).order_by("position").last()
    assert first is not None and second is not None
    del data[f"m{second.pk}"]
    page = c.post(f"/decisions/{d.pk}/vote/", data).content.decode()
    assert "第2项" in page and f'value="{data[f"m{first.pk}"]}" id="m{first.pk}_{data[f"m{first.pk}"]}" checked' in page


def test_the_ballot_in_english(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    page = client_for(dw.owners[0], "en").get(f"/decisions/{d.pk}/vote/").content.decode()
    assert "Your voting weight" in page and "Yes" in page and "Voting is open until" in page


@pytest.mark.parametrize("who", ["tenant", "outsider", "no_account"])
def test_who_is_not_an_owner_in_scope_is_refused(dw: DecisionWorld, who: str) -> None:
    d = open_decision(dw)
    if who == "tenant":
        response = client_for(dw.tenant).get(f"/decisions/{d.pk}/vote/")
        assert response.status_code == 403 and "只有业主" in response.content.decode()
        cast = client_for(dw.tenant).post(f"/decisions/{d.pk}/vote/", ballot_post(d))
        assert cast.status_code == 403
    elif who == "outsider":
        assert client_for(dw.outsider).get(f"/decisions/{d.pk}/vote/").status_code == 404
        assert client_for(dw.outsider).post(f"/decisions/{d.pk}/vote/", ballot_post(d)).status_code == 404
    else:
        from tests.factories import user_make

        assert client_for(user_make("nobody")).get(f"/decisions/{d.pk}/vote/").status_code == 404
    assert not DecisionVote.objects.exists()


def test_an_owner_outside_the_buildings_is_refused(dw: DecisionWorld) -> None:
    from agora.roster.models import Building

    d = open_decision(dw, building_ids=[Building.objects.get(community=dw.community, name="1号楼").pk])
    response = client_for(dw.owners[3]).get(f"/decisions/{d.pk}/vote/")  # 2号楼
    assert response.status_code == 403 and "您所在的楼栋不在本次表决范围内" in response.content.decode()


def test_an_owner_without_area_is_refused_under_art278(dw: DecisionWorld) -> None:
    from agora.roster.models import Resident, Tenure
    from tests.factories import user_make

    user = user_make("noarea")
    Resident.objects.create(user=user, community=dw.community, household=dw.no_area_household, tenure=Tenure.OWNER, verified=True)
    d = open_decision(dw)
    page = client_for(user).get(f"/decisions/{d.pk}/vote/").content.decode()
    assert "没有登记专有部分面积" in page and "3号楼-1-102" in page
    client_for(user).post(f"/decisions/{d.pk}/vote/", ballot_post(d))
    assert not DecisionVote.objects.exists()


def test_before_the_start_and_after_the_end_the_ballot_says_when(dw: DecisionWorld) -> None:
    d = draft_decision(dw)
    decision_announce(decision=d, by=dw.moderator)
    c = client_for(dw.owners[0])
    assert "投票将于" in c.get(f"/decisions/{d.pk}/vote/").content.decode()
    assert "投票将于" in c.get(f"/decisions/{d.pk}/").content.decode()
    clock.advance((d.closes_at - clock.now()).total_seconds() + 60)
    from voting.decisions.lifecycle import decision_open_due

    decision_open_due(decision_id=d.pk)
    decision_close_due(decision_id=d.pk)
    page = c.get(f"/decisions/{d.pk}/vote/").content.decode()
    assert "截止" in page and 'name="idempotency_key"' not in page
    assert "询异期至" in c.get(f"/decisions/{d.pk}/").content.decode()


def test_another_channel_first_is_named_on_the_ballot_page(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    vote_record(decision=d, unit=unit_of(d, dw.households[0]), choices=all_yes(d), channel=Channel.PAPER, recorded_by=dw.clerk)
    page = client_for(dw.owners[0]).get(f"/decisions/{d.pk}/vote/").content.decode()
    assert "以纸质表决票" in page


def test_objections_are_lodged_by_owners_and_answered_by_moderators_for_members(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    clock.advance((d.closes_at - clock.now()).total_seconds() + 60)
    decision_close_due(decision_id=d.pk)
    owner = client_for(dw.owners[1])
    empty = owner.post(f"/decisions/{d.pk}/objections/", {"text": ""}).content.decode()
    assert "objection-form" in empty
    owner.post(f"/decisions/{d.pk}/objections/", {"text": "2号楼的票数统计有误"})
    objection = d.objections.get()
    assert (
        client_for(dw.tenant).post(f"/decisions/{d.pk}/objections/{objection.pk}/answer/", {f"a{objection.pk}-answer": "x"}).status_code
        == 403
    )
    client_for(dw.moderator).post(f"/decisions/{d.pk}/objections/{objection.pk}/answer/", {f"a{objection.pk}-answer": "已复核，统计无误。"})
    page = client_for(dw.tenant).get(f"/decisions/{d.pk}/").content.decode()
    assert "2号楼的票数统计有误" in page and "已复核，统计无误。" in page
    tenant_lodge = client_for(dw.tenant).post(f"/decisions/{d.pk}/objections/", {"text": "租户意见"})
    assert tenant_lodge.status_code == 403


def test_the_decision_page_links_the_other_features_and_the_notices(dw: DecisionWorld) -> None:
    d = open_decision(dw)
    page = client_for(dw.moderator).get(f"/decisions/{d.pk}/").content.decode()
    for path in ("progress", "paper", "door"):
        assert f'href="/decisions/{d.pk}/{path}/"' in page
    resident = client_for(dw.owners[0]).get(f"/decisions/{d.pk}/").content.decode()
    assert f'/decisions/{d.pk}/paper/"' not in resident and 'id="go-vote"' in resident
    step = d.steps.get(kind=StepKind.ANNOUNCED)
    assert f"/decisions/{d.pk}/notices/{step.pk}/" in resident


def test_the_community_list_shows_drafts_to_moderators_only(dw: DecisionWorld) -> None:
    draft = draft_decision(dw)
    live = open_decision(dw)
    mod = client_for(dw.moderator).get(f"/decisions/c/{dw.community.slug}/").content.decode()
    assert f"/decisions/{draft.pk}/" in mod and f"/decisions/{live.pk}/" in mod and "new-decision" in mod
    owner = client_for(dw.owners[0]).get("/decisions/").content.decode()
    assert f"/decisions/{draft.pk}/" not in owner and f"/decisions/{live.pk}/" in owner and "new-decision" not in owner
