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


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "agora.settings")
    django.setup()
    for s, where in sorted(missing_translations().items(), key=lambda kv: kv[1]):
        print(f"{where}\t{s!r}")
