"""Agora's own cookies (language, elder mode) are HTTPS-only in production mode, like the
session and CSRF cookies, and never readable by scripts or sent cross-site."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.security.test_deployment import PROD_ENV
from tests.servers import ROOT

# Sets both cookies as a visitor would (no database needed) and prints their attributes.
SET_COOKIES = """
import json, django
django.setup()
from django.test import Client
client = Client()
host = {"HTTP_HOST": "agora.example.org", "secure": True}
set_language = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, **host)
elder = client.post("/prefs/elder/", {"on": "1", "next": "/"}, **host)
cookies = {**set_language.cookies, **elder.cookies}
print(json.dumps({name: {key: cookies[name][key] for key in ("secure", "httponly", "samesite")} for name in ("django_language", "agora_elder")}))
"""


def cookie_attributes(env: dict[str, str], tmp_path: Path) -> dict[str, dict[str, object]]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("AGORA_") and k not in {"DATABASE_URL", "REDIS_URL"}}
    full.update({**env, "DJANGO_SETTINGS_MODULE": "agora.settings", "AGORA_SQLITE_PATH": str(tmp_path / "unused.sqlite3")})
    result = subprocess.run([sys.executable, "-c", SET_COOKIES], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_language_and_elder_cookies_are_secure_in_production_mode(tmp_path: Path) -> None:
    cookies = cookie_attributes(PROD_ENV, tmp_path)
    for name in ("django_language", "agora_elder"):
        assert cookies[name] == {"secure": True, "httponly": True, "samesite": "Lax"}, (name, cookies[name])


@pytest.mark.django_db
def test_the_embedded_server_keeps_them_usable_over_plain_http() -> None:
    """Embedded mode serves plain HTTP on a local network: a Secure cookie would never come back."""
    client = Client()
    language = client.post("/i18n/setlang/", {"language": "en", "next": "/"}).cookies["django_language"]
    elder = client.post("/prefs/elder/", {"on": "1", "next": "/"}).cookies["agora_elder"]
    for cookie in (language, elder):
        assert not cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
