"""axe-core scans every page as every role: Chinese and English, normal and elder mode, phone and desktop.

One browser for the whole module; per test one role in one language, with one browser context
per display mode (the elder cookie belongs to the context). Each page is loaded once per mode and
scanned at 390×844 and at 1280×800 (the viewport is resized in place). A scan fails on any
*serious* or *critical* axe violation; in elder mode the AAA contrast rule (7:1,
``color-contrast-enhanced``) is switched on too, since elder mode promises it. Every scan also
checks that nothing scrolls sideways and that every aria-describedby points at something real (a
field marked invalid is described by its visible error). Each page is then laid out once more at
200 % zoom (a 640-px CSS viewport at device scale factor 2): no text may overflow or overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from django.db import connection
from django.utils import timezone

from sessions.models import SessionState
from tests.browser.conftest import DESKTOP, PHONE, login, new_page
from tests.factories import World, session_make
from tests.servers import DaphneServer

# Markup, styles and scripts decide what axe finds, not the database or the channel layer: make test
# scans in its embedded pass only (same_on_both_passes, docs/performance.md "Test parallelism").
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.timeout(300), pytest.mark.same_on_both_passes]

ROLES = ("anonymous", "resident", "observer", "moderator")
USERNAME = {"resident": "res1", "observer": "obs", "moderator": "mod"}
LANGUAGES = ("zh-hans", "en")
FAILING_IMPACTS = {"serious", "critical"}
ZOOMED = {"width": 640, "height": 400}  # 1280×800 at 200 %

PageAction = Callable[[Any, str], None]
T = TypeVar("T")
LIVE = "#live-status.online"


@dataclass
class SitePage:
    name: str
    path: str
    action: PageAction | None = None  # brings the page into the state to scan (e.g. a form with errors)
    ready: str = ""  # a selector to wait for before scanning (e.g. the live connection is up)
    site_chrome: bool = True  # has the site header (language and elder switches); the projector has none


@dataclass
class Site:
    """Every kind of page a role can reach, built on ``make_world()`` plus what each app adds."""

    pages: dict[str, list[SitePage]] = field(default_factory=dict)
    live_session_id: int = 0
    ballot_path: str = ""
    minutes_path: str = ""
    ranked_motion_id: int = 0
    yes_no_motion_id: int = 0


# --- one server for the module --------------------------------------------------------------


@pytest.fixture(scope="module")
def daphne_server(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaphneServer]:
    """One daphne for every case of the module on a worker, instead of one per case (seconds each).

    Each case still builds its own site on the emptied test database (``tx_world``); the server
    keeps no state between them that a case could see: sessions, lock-outs and votes are rows,
    and the ids of a new case's people and motions were never used before.
    """
    server = DaphneServer.start(log_dir=tmp_path_factory.mktemp("daphne"))
    try:
        yield server
    finally:
        server.stop()


# --- the site under test -------------------------------------------------------------------


def _wrong_password(page: Any, base: str) -> None:
    page.fill("#id_username", "nobody")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit].primary")
    page.wait_for_selector("form .error[role=alert]")


def _locked_out(page: Any, base: str) -> None:
    # django-axes locks a username on this address after 5 failures; the next answer is the locked page.
    for _attempt in range(7):
        if page.locator("main a.button[href$='/accounts/login/']").count():
            return
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", "locked-out-user")
        page.fill("#id_password", "wrong")
        page.click("button[type=submit].primary")
        page.wait_for_load_state()
    raise AssertionError("the locked-out page never appeared")


def _submit_empty_form(page: Any, base: str) -> None:
    field = page.locator("main form[method=post] :is(input[type=text], textarea)").first
    field.fill("")
    page.locator("main form[method=post] button[type=submit]").last.click()
    page.wait_for_selector("main .error")


def _cast_without_javascript(page: Any, base: str) -> None:
    # The ballot form as a browser without JavaScript sends it: the receipt page answers (in elder
    # mode, the page that shows the choice and asks first). A motion this resident has not voted
    # on yet (a changed ballot needs the first device's receipt).
    # Wait for that motion's form: in the elder pass the motion voted on in the normal pass comes
    # first, and live.js hides its form once the live connection reports the vote.
    unvoted = ".motion:not(:has(.voted-note)) form.ballot-form"
    page.wait_for_selector(unvoted)
    form = page.locator(unvoted).first
    radio = form.locator("input[type=radio]")
    if radio.count():
        radio.first.check()
    with page.expect_navigation():
        form.evaluate("f => HTMLFormElement.prototype.submit.call(f)")
    assert "/ballot/" in page.url, f"the ballot was refused: {page.locator('.flash').all_inner_texts()}"


def build_site(world: World) -> Site:
    """Sessions in every state, messages, published minutes, an action item and a need.

    Built in a worker thread: Playwright's event loop runs in the test thread, and the services
    announce their changes through ``async_to_sync``, which refuses to run beside a loop.
    """

    def build() -> Site:
        try:
            return _build_site(world)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(build).result()


def _build_site(world: World) -> Site:
    from records import services as minutes_services
    from records.models import ActionStatus
    from sessions.services import message_post, reaction_set
    from tests.records.helpers import held_session, published

    live = world.session
    first = message_post(session=live, author=world.resident, text="东门晚上能划线停车吗？Can we park by the east gate at night?")
    message_post(session=live, author=world.moderator, text="可以讨论，请大家先说说需求。", reply_to_id=first.pk)
    message_post(session=live, author=world.resident2, text="租户也应该有机会申请车位，<b>一户一个</b>。")
    reaction_set(message_id=first.pk, session=live, user=world.resident2, kind="agree")

    scheduled = session_make(world.community, world.moderator, state=SessionState.SCHEDULED, title="加装电梯意见征集", audience=[])
    message_post(session=scheduled, author=world.resident, text="我家住六楼，很需要电梯。")
    draft = session_make(world.community, world.moderator, state=SessionState.DRAFT, title="垃圾分类点位调整")
    record = published(world, title="楼道堆物清理")
    adjourned = held_session(world, title="小区安全巡逻", hidden_text="")
    item = minutes_services.action_item_create(
        session=record.session,
        by=world.moderator,
        what="在东门划出夜间停车线",
        responsible="物业公司",
        due_on=timezone.localdate() + timedelta(days=30),
    )
    minutes_services.action_item_update(item=item, by=world.moderator, status=ActionStatus.IN_PROGRESS, note="已联系物业")
    minutes_services.action_item_update(item=item, by=world.moderator, status=ActionStatus.DONE, note="已完成划线")
    need = minutes_services.need_submit(community=world.community, by=world.resident, text="3号楼门口路灯坏了，晚上很黑。")

    # The hybrid meeting: an agenda under way, someone speaking, someone waiting (res1 is free to raise a hand).
    from sessions.meeting import services as meeting
    from sessions.models import AgendaItem

    for position, title in enumerate(("车位登记办法", "租户的车位"), start=1):
        AgendaItem.objects.create(session=live, position=position, title=title, planned_minutes=20)
    meeting.agenda_item_start(session=live, by=world.moderator)
    meeting.hand_raise(session=live, user=world.resident2)
    meeting.floor_give(session=live, by=world.moderator)
    meeting.floor_add(session=live, by=world.moderator, name="张三")
    room = meeting.meeting_room_ensure(session=live)

    # Votes: one open approve/reject, one open ranked (numbered choices), one closed with a result.
    from voting.services import MotionSettings, motion_close, motion_create, motion_open

    yes_no = motion_open(
        motion=motion_create(session=live, by=world.moderator, text="东门夜间划线停车", settings=MotionSettings()), by=world.moderator
    )
    ranked = motion_open(
        motion=motion_create(
            session=live,
            by=world.moderator,
            text="车位分配方式",
            settings=MotionSettings(kind="ranked", options=("按户抽签", "按登记先后", "按需评分")),
        ),
        by=world.moderator,
    )
    closed = motion_open(
        motion=motion_create(
            session=live, by=world.moderator, text="是否成立停车管理小组", settings=MotionSettings(secret=False, results_live=True)
        ),
        by=world.moderator,
    )
    from tests.voting.helpers import vote

    vote(closed, world.resident2, "yes")
    motion_close(motion=closed, by=world.moderator)

    s = f"/sessions/{live.pk}/"
    minutes = f"/minutes/{record.pk}/"
    anonymous = [
        SitePage("home", "/"),
        SitePage("login", "/accounts/login/"),
        SitePage("login-error", "/accounts/login/", _wrong_password),
        SitePage("locked-out", "/accounts/login/", _locked_out),
        SitePage("archive", "/archive/"),
        SitePage("archive-search", "/archive/?q=%E5%A0%86%E7%89%A9"),
        SitePage("minutes", minutes),
        SitePage("minutes-print", f"/minutes/{record.pk}/print/"),
        SitePage("action-item", f"/minutes/action-items/{item.pk}/"),
        SitePage("join", "/join/"),
        SitePage("projector", f"/projector/{room.projector_token}/", site_chrome=False),
        SitePage("vote-results", f"{s}motions/{closed.pk}/results/"),
    ]
    resident = [
        SitePage("session-list", "/sessions/"),
        SitePage("live-session", s, ready=LIVE),
        SitePage("scheduled-session", f"/sessions/{scheduled.pk}/", ready=LIVE),
        SitePage("archived-session", f"/sessions/{record.session_id}/", ready=LIVE),
        SitePage("archive", "/archive/"),
        SitePage("minutes", minutes),
        SitePage("action-item", f"/minutes/action-items/{item.pk}/"),
        SitePage("needs", f"/needs/c/{world.community.slug}/"),
        SitePage("need", f"/needs/{need.pk}/"),
        SitePage("join-code", f"/j/{room.join_code}/"),
        SitePage("vote-results", f"{s}motions/{closed.pk}/results/"),
        SitePage("ballot-receipt", s, _cast_without_javascript),
    ]
    observer = [
        SitePage("session-list", "/sessions/"),
        SitePage("live-session", s, ready=LIVE),
        SitePage("archive", "/archive/"),
        SitePage("minutes", minutes),
    ]
    moderator = [
        SitePage("session-list", "/sessions/"),
        SitePage("live-session", s, ready=LIVE),
        SitePage("draft-session", f"/sessions/{draft.pk}/"),
        SitePage("scheduled-session", f"/sessions/{scheduled.pk}/", ready=LIVE),
        SitePage("session-form", f"/sessions/new/{world.community.slug}/"),
        SitePage("session-form-errors", f"/sessions/{draft.pk}/edit/", _submit_empty_form),
        SitePage("audit-log", f"/audit/{world.community.slug}/"),
        SitePage("minutes-draft", f"/minutes/draft/{adjourned.pk}/"),
        SitePage("minutes-correct", f"/minutes/{record.pk}/correct/"),
        SitePage("follow-up", "/minutes/follow-up/"),
        SitePage("action-item", f"/minutes/action-items/{item.pk}/"),
        SitePage("needs", f"/needs/c/{world.community.slug}/"),
        SitePage("need", f"/needs/{need.pk}/"),
        SitePage("motion-form", f"{s}motions/new/"),
        SitePage("motion-form-errors", f"{s}motions/new/", _submit_empty_form),
        SitePage("in-person-counts", f"{s}motions/{yes_no.pk}/in-person/"),
        SitePage("vote-results", f"{s}motions/{closed.pk}/results/"),
        SitePage("moderation-log", f"{s}meeting/log/"),
        SitePage("check-in-desk", f"{s}meeting/checkin/"),
        SitePage("projector", f"/projector/{room.projector_token}/", site_chrome=False),
        SitePage("adjourn-confirm", f"{s}adjourn/confirm/"),
        SitePage("result-screen", f"{s}motions/{closed.pk}/results/screen/", site_chrome=False),
    ]
    return Site(
        pages={"anonymous": anonymous, "resident": resident, "observer": observer, "moderator": moderator},
        live_session_id=live.pk,
        minutes_path=minutes,
        ballot_path=s,
        ranked_motion_id=ranked.pk,
        yes_no_motion_id=yes_no.pk,
    )


# --- scanning ------------------------------------------------------------------------------


def open_page(page: Any, base: str, site_page: SitePage) -> None:
    response = page.goto(base + site_page.path)
    assert response is not None and response.status < 400, f"{site_page.name}: HTTP {response and response.status}"
    if site_page.action:
        site_page.action(page, base)
    if site_page.ready:
        try:
            page.wait_for_selector(site_page.ready)
        except Exception as exc:
            raise AssertionError(f"{site_page.name}: never became ready ({site_page.ready}) at {page.url}") from exc


def axe_violations(page: Any, *, elder: bool) -> list[dict[str, Any]]:
    """Serious and critical violations on the page as it is now (AAA contrast too in elder mode)."""
    from axe_playwright_python.base import AXE_SCRIPT

    # Inject axe-core once per loaded document (it is 500 kB); axe-playwright-python's own
    # ``Axe().run`` would inject it again before every scan.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    # label-content-name-mismatch (WCAG 2.5.3, Label in Name) is one of axe's experimental rules,
    # off by default: the words a button shows must be inside its accessible name, so that a
    # resident using voice control can say what they see.
    rules = {"color-contrast-enhanced": {"enabled": elder}, "label-content-name-mismatch": {"enabled": True}}
    options = {"resultTypes": ["violations"], "rules": rules}
    results = page.evaluate("options => axe.run(document, options)", options)
    return [v for v in results["violations"] if v.get("impact") in FAILING_IMPACTS]


def describe(where: str, violation: dict[str, Any]) -> str:
    nodes = "; ".join(" ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"]) for n in violation["nodes"][:4])
    more = f" (+{len(violation['nodes']) - 4} more)" if len(violation["nodes"]) > 4 else ""
    return f"{where}: {violation['id']} [{violation['impact']}] {violation['help']} — {nodes}{more}"


HORIZONTAL_OVERFLOW_JS = """() => {
  const vw = document.documentElement.clientWidth;
  const out = [];
  if (document.documentElement.scrollWidth > vw + 1) out.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + vw);
  for (const el of document.querySelectorAll('body *')) {
    if (el instanceof SVGElement && !(el instanceof SVGSVGElement)) continue;  // drawn inside the chart's box
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden' || el.closest('.visually-hidden, .skip-link')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right > vw + 1 || r.left < -1) {
      out.push((el.id ? '#' + el.id : el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '')) + ' spans ' + Math.round(r.left) + '..' + Math.round(r.right) + ' of ' + vw);
    }
    if (el.scrollWidth > el.clientWidth + 1 && ['visible', 'clip'].includes(style.overflowX) && el.children.length === 0 && el.textContent.trim()) {
      out.push(el.tagName.toLowerCase() + ' text overflows its box: ' + el.textContent.trim().slice(0, 40));
    }
  }
  return out.slice(0, 8);
}"""


# Errors next to the field must also be tied to it: every id an aria-describedby names exists, and
# a field marked invalid is described by something visible (its error sentence).
DESCRIBED_BY_JS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('[aria-describedby]')) {
    const ids = el.getAttribute('aria-describedby').split(/\\s+/).filter(Boolean);
    const missing = ids.filter(id => !document.getElementById(id));
    if (missing.length) out.push((el.name || el.id || el.tagName) + ' is described by missing #' + missing.join(', #'));
  }
  for (const el of document.querySelectorAll('[aria-invalid=true]')) {
    const ids = (el.getAttribute('aria-describedby') || '').split(/\\s+/).filter(Boolean);
    const said = ids.map(id => document.getElementById(id)).filter(e => e && e.textContent.trim() && e.getClientRects().length);
    if (!said.length) out.push((el.name || el.id || el.tagName) + ' is invalid but no visible error describes it');
  }
  return out;
}"""


def error_links(page: Any) -> list[str]:
    return list(page.evaluate(DESCRIBED_BY_JS))


# Overlapping text: the line boxes of different text nodes must not cover each other (a quarter
# of the smaller box, so touching lines and glyph overhang do not count).
TEXT_OVERLAP_JS = """() => {
  // Visually hidden the usual way (clip, clip-path, or a 1-px box that hides its overflow): not drawn.
  const clipped = el => {
    for (let e = el; e && e !== document.body; e = e.parentElement) {
      const s = getComputedStyle(e);
      if ((s.clip && s.clip !== 'auto') || (s.clipPath && s.clipPath !== 'none')) return true;
      const r = e.getBoundingClientRect();
      if (s.overflow !== 'visible' && (r.width <= 1 || r.height <= 1)) return true;
    }
    return false;
  };
  const boxes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(), n = 0; node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || el.closest('.visually-hidden, .skip-link, [hidden], script, style, svg, option')) continue;
    // Closed <details> keep their content laid out but skipped (content-visibility): not drawn.
    if (!el.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true, opacityProperty: true})) continue;
    if (clipped(el)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    n++;
    for (const r of range.getClientRects()) if (r.width > 1 && r.height > 1) boxes.push({n, r, text: node.textContent.trim().slice(0, 24)});
  }
  const out = [];
  for (let i = 0; i < boxes.length && out.length < 6; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      if (a.n === b.n) continue;
      const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
      if (w <= 0 || h <= 0) continue;
      const smaller = Math.min(a.r.width * a.r.height, b.r.width * b.r.height);
      if (w * h > smaller / 4) { out.push('text overlaps: "' + a.text + '" and "' + b.text + '"'); break; }
    }
  }
  return out;
}"""


def text_overlap(page: Any) -> list[str]:
    return list(page.evaluate(TEXT_OVERLAP_JS))


def horizontal_overflow(page: Any) -> list[str]:
    return list(page.evaluate(HORIZONTAL_OVERFLOW_JS))


def role_page(
    browser: Any,
    base: str,
    role: str,
    *,
    language: str,
    elder: bool,
    viewport: dict[str, int] | None = None,
    device_scale_factor: float | None = None,
) -> Any:
    if device_scale_factor:
        context = browser.new_context(viewport=viewport, device_scale_factor=device_scale_factor, locale="zh-CN")
        context.add_cookies(
            [{"name": "django_language", "value": language, "url": base}]
            + ([{"name": "agora_elder", "value": "1", "url": base}] if elder else [])
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
    else:
        page = new_page(browser, viewport=viewport or PHONE, language=language, elder=elder, base_url=base)
    if role != "anonymous":
        login(page, base, USERNAME[role])
    return page


# The scan is split so pytest-xdist can spread it over workers: each case is one role, one
# language and one contiguous share of that role's pages (about four pages each), both display
# modes. The shares of a role together are all its pages, in order; a page that changes state
# (the ballot receipt, the lock-out) still sees the normal pass before the elder one.
SHARES = {"anonymous": 3, "resident": 3, "observer": 1, "moderator": 5}


def pages_share(pages: list[T], share: int, shares: int) -> list[T]:
    """The ``share``-th of ``shares`` contiguous slices of ``pages`` (together: every page once)."""
    return pages[share * len(pages) // shares : (share + 1) * len(pages) // shares]


CASES = [
    pytest.param(role, language, share, id=f"{role}-{language}-{share + 1}of{SHARES[role]}")
    for role in ROLES
    for language in LANGUAGES
    for share in range(SHARES[role])
]


def test_page_shares_cover_every_page_once() -> None:
    names = [f"page{i}" for i in range(23)]
    for shares in range(1, 8):
        assert [n for k in range(shares) for n in pages_share(names, k, shares)] == names


@pytest.mark.parametrize("role,language,share", CASES)
def test_every_page_has_no_serious_axe_violations(
    role: str, language: str, share: int, tx_world: World, daphne_server, shared_browser
) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    site = build_site(tx_world)
    pages = pages_share(site.pages[role], share, SHARES[role])
    assert pages, f"{role}: share {share + 1} of {SHARES[role]} is empty (fewer pages than shares)"
    problems: list[str] = []
    scanned = 0
    for elder in (False, True):
        # Device scale factor 2 throughout, so that the 640-px step below is a 1280-px screen at 200 %.
        page = role_page(shared_browser, base, role, language=language, elder=elder, viewport=PHONE, device_scale_factor=2)
        for site_page in pages:
            page.set_viewport_size(PHONE)
            open_page(page, base, site_page)
            if site_page.site_chrome:
                assert page.locator("html.elder").count() == (1 if elder else 0), site_page.name
            for size_name, size in (("phone", PHONE), ("desktop", DESKTOP)):
                page.set_viewport_size(size)
                where = f"{site_page.name} [{role}, {language}, {'elder' if elder else 'normal'}, {size_name}]"
                in_elder_mode = page.locator("html.elder").count() == 1  # the projector has no elder mode
                problems += [describe(where, v) for v in axe_violations(page, elder=in_elder_mode)]
                problems += [f"{where}: {o}" for o in horizontal_overflow(page)]
                if size_name == "phone":
                    problems += [f"{where}: {o}" for o in error_links(page)]
                scanned += 1
            # 200 % zoom: a 1280-px-wide screen zoomed to 200 % lays out 640 CSS px. Text must reflow.
            page.set_viewport_size(ZOOMED)
            where = f"{site_page.name} [{role}, {language}, {'elder' if elder else 'normal'}, 200% zoom]"
            problems += [f"{where}: {o}" for o in horizontal_overflow(page) + text_overlap(page)]
        page.context.close()
    assert scanned == len(pages) * 4
    assert not problems, f"{len(problems)} accessibility problems:\n" + "\n".join(problems)
