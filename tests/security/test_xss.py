"""Every user input comes out inert: a corpus of XSS payloads through every field, each page
and live fragment re-parsed with an HTML5 parser. Cleaning is idempotent."""

from __future__ import annotations

from pathlib import Path

import html5lib
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from agora.infra.sanitize import ALLOWED_TAGS, clean_plain_text, clean_rich_text
from sessions import services
from sessions.live.rendering import render_variant
from sessions.selectors import message_data
from tests.factories import World

CORPUS = [line for line in (Path(__file__).parent / "xss_corpus.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
# Tags the page itself uses; user text may only add ALLOWED_TAGS inside them.
PAGE_TAGS = {
    "html",
    "head",
    "body",
    "meta",
    "title",
    "link",
    "script",
    "a",
    "span",
    "div",
    "header",
    "nav",
    "main",
    "footer",
    "form",
    "input",
    "button",
    "p",
    "h1",
    "h2",
    "section",
    "ol",
    "ul",
    "li",
    "time",
    "label",
    "textarea",
    "article",
    "details",
    "summary",
    "blockquote",
    "br",
    "b",
    "strong",
    "i",
    "em",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "fieldset",
    "legend",
    "select",
    "option",
    "h3",
    "img",
    "code",  # the meeting panel: queue and attendance headings, QR images, room links
    "aside",
    "dl",
    "dt",
    "dd",
    "mark",
    "caption",  # minutes, follow-up and needs pages; search hits are <mark>ed
    "figure",
    "figcaption",  # the big screen's join and check-in QR codes
    *(f"{{http://www.w3.org/2000/svg}}{tag}" for tag in ("svg", "rect", "text", "title")),
}  # a resolution's chart
SCRIPT_URL_PREFIXES = ("javascript:", "vbscript:", "data:")


def assert_inert(markup: str, *, where: str, page: bool = False) -> None:
    doc = html5lib.parse(markup, namespaceHTMLElements=False) if page else html5lib.parseFragment(markup, namespaceHTMLElements=False)
    for el in doc.iter():
        if not isinstance(el.tag, str) or el.tag == "DOCUMENT_FRAGMENT":
            continue
        assert el.tag in (PAGE_TAGS if page else ALLOWED_TAGS | PAGE_TAGS), f"{where}: <{el.tag}>"
        if el.tag == "script":
            assert el.get("src", "").startswith("/static/"), f"{where}: script {el.attrib}"
            assert not (el.text or "").strip(), f"{where}: inline script"
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on"), f"{where}: {name}"
            assert not name.lower().startswith("hx-") or el.tag == "body" or el.tag == "form", f"{where}: {name} on <{el.tag}>"
            compact = "".join(value.split()).lower()
            if name.lower() in {"href", "src", "action", "formaction", "xlink:href"}:
                assert not compact.startswith(SCRIPT_URL_PREFIXES), f"{where}: {name}={value!r}"


@pytest.mark.parametrize("payload", CORPUS)
def test_cleaning_makes_each_payload_inert(payload: str) -> None:
    assert_inert(clean_rich_text(payload), where="clean_rich_text")
    assert clean_rich_text(clean_rich_text(payload)) == clean_rich_text(payload)


# The corpus through the session's inputs in contiguous shares (together: every payload once, in
# order), so pytest-xdist spreads it over workers: the whole corpus in one test took 25–60 s.
SESSION_INPUT_SHARES = 6


@pytest.mark.django_db
@pytest.mark.parametrize("share", range(SESSION_INPUT_SHARES), ids=lambda share: f"{share + 1}of{SESSION_INPUT_SHARES}")
def test_every_session_input_is_inert_on_pages_and_live_fragments(world: World, share: int) -> None:
    client = Client()
    client.force_login(world.moderator)
    start, stop = share * len(CORPUS) // SESSION_INPUT_SHARES, (share + 1) * len(CORPUS) // SESSION_INPUT_SHARES
    assert stop > start, f"share {share + 1} of {SESSION_INPUT_SHARES} is empty"
    for i, payload in enumerate(CORPUS[start:stop], start=start):
        session = services.topic_session_create(
            community=world.community,
            by=world.moderator,
            title=f"议题{i} {payload}"[:120],
            starts_at=timezone.now(),
            description=payload,
            place=payload[:120],
            agenda=[payload[:200]],
            audience_tags=[world.car_owner],
        )
        services.topic_session_schedule(session=session, by=world.moderator)
        services.topic_session_open(session=session, by=world.moderator)
        world.resident.first_name = payload[:150]
        world.resident.save()
        first = services.message_post(session=session, author=world.resident, text=f"看 {payload}")
        services.message_post(session=session, author=world.moderator, text=f"回复 {payload}", reply_to_id=first.pk)
        for url in (reverse("topic_sessions:detail", args=[session.pk]), reverse("topic_sessions:list")):
            assert_inert(client.get(url).content.decode(), where=f"{url} {payload!r}", page=True)
        data = message_data(first)
        for language in ("zh-hans", "en"):
            for role in ("moderator", "participant"):
                html = render_variant(
                    event_id=f"x{i}{language}{role}",
                    template="sessions/partials/_message.html",
                    context={"m": data},
                    language=language,
                    role=role,
                )
                assert_inert(html, where=f"live {payload!r}")


def test_plain_text_keeps_what_was_typed_without_tags() -> None:
    assert clean_plain_text("停车 <b>位</b> a < b & c") == "停车 位 a < b & c"


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_cleaning_is_idempotent(text: str) -> None:
    once = clean_rich_text(text)
    assert clean_rich_text(once) == once


@given(st.text(alphabet=st.sampled_from(list("<>\"'=/ abcdefghijklmnopqrstuvwxyz:&#;()javscriptonerrohref")), max_size=120))
@settings(max_examples=400, deadline=None)
def test_random_markup_comes_out_inert(text: str) -> None:
    assert_inert(clean_rich_text(text), where=repr(text))
