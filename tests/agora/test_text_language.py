from __future__ import annotations

from django.template import Context, Template
from django.utils import translation

from agora.infra.text_language import text_language


def test_the_script_tells_the_language_of_user_text() -> None:
    assert text_language("东门晚上能划线停车吗？") == "zh-Hans"
    assert text_language("<p>请大家<strong>先登记</strong>车辆。</p>") == "zh-Hans"
    assert text_language("Can we park at the east gate?") == "en"
    assert text_language("3号楼 Wang Li") == "zh-Hans"  # a Chinese building with a name in pinyin
    assert text_language("2026-12-01 18:00") is None
    assert text_language("") is None


def test_content_in_the_other_language_is_marked_and_the_page_language_is_not() -> None:
    template = Template("{% load agora_tags %}<p{{ text|lang_attr }}>{{ text }}</p>")
    with translation.override("en"):
        assert template.render(Context({"text": "车位登记"})) == '<p lang="zh-Hans">车位登记</p>'
        assert template.render(Context({"text": "Parking"})) == "<p>Parking</p>"
    with translation.override("zh-hans"):
        assert template.render(Context({"text": "Parking for renters"})) == '<p lang="en">Parking for renters</p>'
        assert template.render(Context({"text": "车位登记"})) == "<p>车位登记</p>"
