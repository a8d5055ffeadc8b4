"""Read aloud (语音阅读): a visible button reads a message, a motion and a ballot's choices with the
browser's speech synthesis, each part in its own language; without a voice the button says so.
Chromium's speechSynthesis is observed through an init script that records every utterance."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sessions.services import message_post
from tests.browser.conftest import PHONE, login, new_page
from tests.factories import World
from voting import services
from voting.services import MotionSettings

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

SPEECH = """
(() => {
  const voices = %s;
  window.__spoken = [];
  window.SpeechSynthesisUtterance = function (text) { this.text = text; this.lang = ""; this.voice = null; };
  const synth = {
    getVoices: () => voices,
    speak: (u) => { window.__spoken.push({ text: u.text, lang: u.lang, voice: u.voice && u.voice.name }); setTimeout(() => u.onend && u.onend(), 5); },
    cancel: () => {},
    addEventListener: () => {},
    removeEventListener: () => {},
  };
  Object.defineProperty(window, "speechSynthesis", { value: synth, configurable: true });
})();
"""
VOICES = [{"name": "Tingting", "lang": "zh-CN"}, {"name": "Samantha", "lang": "en-US"}]


def _room(tx_world: World, base: str) -> str:
    message_post(session=tx_world.session, author=tx_world.resident2, text="东门晚上能划线停车吗？")
    motion = services.motion_create(session=tx_world.session, by=tx_world.moderator, text="东门夜间允许划线停车", settings=MotionSettings())
    services.motion_open(motion=motion, by=tx_world.moderator)
    return f"{base}/sessions/{tx_world.session.pk}/"


def _page(browser: Any, base: str, voices: list[dict[str, str]], language: str) -> Any:
    page = new_page(browser, viewport=PHONE, language=language, base_url=base)
    page.context.add_init_script(SPEECH % json.dumps(voices))
    return page


def spoken(page: Any) -> list[dict[str, str]]:
    return page.evaluate("window.__spoken")


def test_a_message_a_motion_and_the_choices_are_read_aloud_each_in_its_language(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    url = _room(tx_world, base)
    page = _page(browser, base, VOICES, "en")
    login(page, base, "res1")
    page.goto(url)
    page.wait_for_selector("#live-status.online")

    message = page.locator("#messages .message:has-text('东门晚上')")
    button = message.locator("button.read-aloud")
    assert button.is_visible() and button.inner_text() == "Read aloud"
    button.click()
    page.wait_for_function("window.__spoken.length >= 2")
    said = spoken(page)
    assert said[-1] == {"text": "东门晚上能划线停车吗？", "lang": "zh-Hans", "voice": "Tingting"}

    page.evaluate("window.__spoken = []")
    page.locator(".motion[data-state=open] .motion-head button.read-aloud").click()
    page.wait_for_function("window.__spoken.length >= 1")
    assert spoken(page)[0] == {"text": "东门夜间允许划线停车", "lang": "zh-Hans", "voice": "Tingting"}

    page.evaluate("window.__spoken = []")
    choices = page.locator(".motion[data-state=open] .ballot-form button.read-aloud")
    assert choices.inner_text() == "Read the choices aloud"
    choices.click()
    page.wait_for_function("window.__spoken.length >= 5")
    said = spoken(page)
    assert [s["text"] for s in said] == ["东门夜间允许划线停车", "Your vote", "Yes", "No", "Abstain"]
    assert [s["lang"] for s in said] == ["zh-Hans", "en", "en", "en", "en"]
    assert said[-1]["voice"] == "Samantha"


def test_without_a_voice_the_button_says_so(tx_world: World, daphne_server, browser) -> None:  # type: ignore[no-untyped-def]
    base = daphne_server.url
    url = _room(tx_world, base)
    page = _page(browser, base, [], "zh-hans")
    login(page, base, "res1")
    page.goto(url)
    page.wait_for_selector("#live-status.online")
    button = page.locator("#messages .message button.read-aloud").first
    assert button.inner_text() == "朗读"
    button.click()
    page.wait_for_selector("#messages .message button.read-aloud.no-voice")
    assert button.inner_text() == "本设备没有可用的朗读语音"
    assert page.locator("#read-aloud-status").inner_text() == "本设备没有可用的朗读语音"
    assert spoken(page) == []
