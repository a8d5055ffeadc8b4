"""Every visible string has a Chinese translation (zh-hans is the default language).

Strings are extracted the way makemessages does (Django's templatize for templates, the
gettext family in Python) and looked up in the compiled catalogs. Run this file as a
script to list what is missing: ``python -m tests.test_translations``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ("agora", "sessions", "voting", "records", "templates")
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
_TEMPLATE_CALL = re.compile(r"""\b(n?p?gettext)\(u(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")""")


def _unescape(s: str) -> str:
    return s.encode("latin-1", "backslashreplace").decode("unicode_escape")


def template_strings(path: Path) -> set[str]:
    from django.utils.translation.template import templatize

    found: set[str] = set()
    for func, single, double in _TEMPLATE_CALL.findall(templatize(path.read_text(encoding="utf-8"))):
        if func.startswith("p"):
            continue  # pgettext(context, msg): the context is not a msgid
        found.add(_unescape(single or double))  # a plural entry is keyed by its singular
    return found


def python_strings(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in GETTEXT_NAMES:
            first = node.args[1] if node.func.id.startswith("p") and len(node.args) > 1 else (node.args[0] if node.args else None)
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value)
    return found


def all_strings() -> dict[str, str]:
    """msgid → first file it appears in."""
    out: dict[str, str] = {}
    for folder in CODE_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            if "migrations" in path.parts or "locale" in path.parts:
                continue
            if path.suffix == ".html":
                strings = template_strings(path)
            elif path.suffix == ".py":
                strings = python_strings(path)
            else:
                continue
            for s in strings:
                out.setdefault(s, str(path.relative_to(ROOT)))
    return out


def missing_translations() -> dict[str, str]:
    from django.utils import translation

    with translation.override("zh-hans"):
        catalog = translation.trans_real.translation("zh-hans")._catalog  # type: ignore[attr-defined]
        known = {key if isinstance(key, str) else key[0] for key in catalog.keys()}  # noqa: SIM118 (a TranslationCatalog: keys(), no __iter__)
    return {s: where for s, where in all_strings().items() if s not in known and s.strip()}


def test_every_visible_string_has_a_chinese_translation() -> None:
    missing = missing_translations()
    assert not missing, "untranslated strings:\n" + "\n".join(
        f"{where}: {s!r}" for s, where in sorted(missing.items(), key=lambda kv: kv[1])
    )


def test_the_extractor_finds_strings() -> None:
    strings = all_strings()
    assert "Topic sessions" in strings and "The message is empty." in strings


@pytest.mark.parametrize("language,expected", [("zh-hans", "议事专场"), ("en", "Topic sessions")])
def test_pages_speak_the_chosen_language(client, language: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    from django.utils import translation

    with translation.override(language):
        assert str(translation.gettext("Topic sessions")) == expected


# --- Full-width punctuation in Chinese text -----------------------------------------------------
# Chinese text takes ，。：；！？（）, not the ASCII forms. Placeholders, numbers (1.5, 09:00), times
# and Latin words keep theirs: only ASCII punctuation next to a Chinese character (or a full-width
# mark) is wrong, and a pair of ASCII parentheses around or beside Chinese text.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")
_PLACEHOLDER = re.compile(r"%\([^)]*\)[sdif]|%[sdif%]|\{[A-Za-z_][A-Za-z0-9_]*\}")
_ASCII_MARKS = ",.:;!?"


def ascii_punctuation_in_chinese(text: str, *, whole: bool = True) -> list[str]:
    """The ASCII marks in Chinese ``text`` that should be full-width, each with its neighbours.

    ``whole``: the text is a whole sentence (a catalog entry), so an ASCII mark ending it is wrong
    too (``原因：%(reason)s.``)."""
    masked = _PLACEHOLDER.sub(lambda m: "\0" * len(m.group()), text)  # placeholders are opaque

    def cjk(i: int) -> bool:
        return 0 <= i < len(masked) and bool(_CJK.match(masked[i]))

    bad: set[int] = set()
    for i, ch in enumerate(masked):
        if ch in _ASCII_MARKS and (cjk(i - 1) or cjk(i + 1)):
            bad.add(i)
    opened: list[int] = []
    for i, ch in enumerate(masked):
        if ch == "(":
            opened.append(i)
        elif ch == ")":
            start = opened.pop() if opened else None
            if start is None:
                if cjk(i - 1) or cjk(i + 1):
                    bad.add(i)
            elif cjk(start - 1) or cjk(i + 1) or _CJK.search(masked[start + 1 : i]):
                bad.update((start, i))
    bad.update(i for i in opened if cjk(i - 1) or cjk(i + 1))
    stripped = masked.rstrip()
    if whole and stripped and stripped[-1] in _ASCII_MARKS and _HAN.search(masked):
        bad.add(len(stripped) - 1)
    return [f"{text[max(0, i - 3) : i]}[{text[i]}]{text[i + 1 : i + 4]}" for i in sorted(bad)]


def _chinese(text: str) -> bool:
    """Mostly Chinese: more Chinese characters than Latin letters (not an English line with a gloss)."""
    han = len(_HAN.findall(text))
    return han > 0 and han > len(re.findall(r"[A-Za-z]", _PLACEHOLDER.sub("", text)))


def catalog_offenders() -> list[str]:
    import polib

    out = []
    for po in sorted(ROOT.glob("*/locale/zh_Hans/LC_MESSAGES/django.po")) + sorted(
        ROOT.glob("agora/*/locale/zh_Hans/LC_MESSAGES/django.po")
    ):
        for entry in polib.pofile(str(po)):
            for msgstr in [entry.msgstr, *entry.msgstr_plural.values()]:
                if _HAN.search(msgstr) and (found := ascii_punctuation_in_chinese(msgstr)):
                    out.append(f"{po.relative_to(ROOT)}: {msgstr!r}: {', '.join(found)}")
    return out


_TEMPLATE_CODE = re.compile(
    r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}|\{%\s*blocktrans(?:late)?\b.*?\{%\s*endblocktrans(?:late)?\s*%\}"
    r"|\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}|<!--.*?-->|<script\b.*?</script>|<style\b.*?</style>",
    re.S,
)
_JS_TOKEN = re.compile(r"//[^\n]*|/\*.*?\*/|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|`(?:[^`\\]|\\.)*`", re.S)


def template_literals(source: str) -> list[str]:
    """Text an HTML template shows as it is: outside tags, variables, comments and translated blocks."""
    return [chunk for chunk in re.split(r"<[^>]*>", _TEMPLATE_CODE.sub("\n", source)) if chunk.strip()]


def js_literals(source: str) -> list[str]:
    """The string literals of a script (comments are skipped)."""
    return [token[1:-1] for token in _JS_TOKEN.findall(source) if token[0] in "'\"`"]


def python_literals(source: str) -> list[str]:
    """String constants that are neither docstrings nor gettext message ids (English, with glosses)."""
    tree = ast.parse(source)
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip.add(id(first.value))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in GETTEXT_NAMES:
            skip.update(id(arg) for arg in node.args)
    return [
        node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
    ]


def literal_offenders() -> list[str]:
    out = []
    files = [
        p for folder in CODE_DIRS for p in sorted((ROOT / folder).rglob("*")) if "migrations" not in p.parts and "locale" not in p.parts
    ]
    files += sorted((ROOT / "static" / "js").rglob("*.js"))
    for path in files:
        if path.suffix == ".html":
            literals = template_literals(path.read_text(encoding="utf-8"))
        elif path.suffix == ".js":
            literals = js_literals(path.read_text(encoding="utf-8"))
        elif path.suffix == ".py":
            literals = python_literals(path.read_text(encoding="utf-8"))
        else:
            continue
        for text in literals:
            if _chinese(text) and (found := ascii_punctuation_in_chinese(text, whole=False)):
                out.append(f"{path.relative_to(ROOT)}: {text.strip()!r}: {', '.join(found)}")
    return out


def test_chinese_translations_use_full_width_punctuation() -> None:
    offenders = catalog_offenders()
    assert not offenders, f"{len(offenders)} Chinese strings with ASCII punctuation:\n" + "\n".join(offenders)


def test_chinese_text_in_templates_scripts_and_code_uses_full_width_punctuation() -> None:
    offenders = literal_offenders()
    assert not offenders, f"{len(offenders)} Chinese literals with ASCII punctuation:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("报名成功,到时见。", ["名成功[,]到时见"]),
        ("第 %(line)d 行:%(reason)s", ["d 行[:]%(r"]),
        ("过半数(超过 1/2)", ["过半数[(]超过 ", "1/2[)]"]),
        ("请稍后再试.", ["后再试[.]"]),
        ("原因：%(reason)s.", ["n)s[.]"]),
        ("在现场?扫码签到", ["在现场[?]扫码签"]),
        ("（隐藏理由：%(reason)s）", []),
        ("例如“12: 1 3”，比例 1.5，时间 09:00…", []),
        ("请访问 https://example.org/a.b?c=1 查看", []),
        ("%(n)s 分钟", []),
    ],
)
def test_the_punctuation_check_finds_ascii_marks_beside_chinese(text: str, expected: list[str]) -> None:
    assert ascii_punctuation_in_chinese(text) == expected


def test_the_literal_scanners_see_chinese_text_but_not_code_or_glosses() -> None:
    assert js_literals("// 注释,不算\nconst a = '连接断开,正在重连';") == ["连接断开,正在重连"]
    assert template_literals('<p>{% translate "Correction (更正)" %}</p><p>请稍候,马上好</p>') == ["请稍候,马上好"]
    assert python_literals('"""文档(说明)."""\nx = _("Big screen (大屏)")\ny = "你好,邻居"') == ["你好,邻居"]
    assert not _chinese("Correction (更正) of the minutes") and _chinese("你好,邻居")


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agora.settings")
    django.setup()
    for s, where in sorted(missing_translations().items(), key=lambda kv: kv[1]):
        print(f"{where}\t{s!r}")
