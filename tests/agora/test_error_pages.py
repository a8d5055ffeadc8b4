"""403, 404 and 500 pages (and a refused form) in the reader's language, saying what to do next;
the 500 page renders while the database is unreachable (agora/views.py, "Error pages")."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from tests.factories import World
from tests.servers import free_port
from tests.sessions.live_helpers import session_cookie

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"}


def page(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers,cookie,sentence,home",
    [
        (ZH, None, "您要找的页面不存在", "返回首页"),
        (EN, None, "The page you asked for does not exist", "Go to the home page"),
        (EN, "zh-hans", "您要找的页面不存在", "返回首页"),  # the cookie wins over the browser
        (ZH, "en", "The page you asked for does not exist", "Go to the home page"),
    ],
)
def test_404_in_the_readers_language_with_a_way_home_and_to_log_in(headers: dict, cookie: str | None, sentence: str, home: str) -> None:
    client = Client()
    if cookie:
        client.cookies["django_language"] = cookie
    response = client.get("/no-such-page/", **headers)
    assert response.status_code == 404
    assert sentence in page(response)
    assert f'<a class="button primary" href="/">{home}</a>' in page(response)
    assert f'href="{reverse("login")}?next=%2Fno-such-page%2F"' in page(response)


@pytest.mark.django_db
def test_404_for_someone_logged_in_offers_the_way_back_not_a_login(world: World) -> None:
    client = Client()
    client.force_login(world.resident)
    response = client.get("/sessions/999999/", HTTP_REFERER="http://testserver/sessions/", **ZH)
    assert response.status_code == 404
    assert "您要找的页面不存在" in page(response)
    assert '<a class="button" href="http://testserver/sessions/">返回上一页</a>' in page(response)
    assert "?next=" not in page(response)


@pytest.mark.django_db
def test_404_never_offers_a_way_back_to_another_site() -> None:
    response = Client().get("/no-such-page/", HTTP_REFERER="https://evil.example/", **EN)
    assert "evil.example" not in page(response)


@pytest.mark.django_db
@pytest.mark.urls("tests.agora.error_urls")
@pytest.mark.parametrize(
    "headers,sentence", [(ZH, "这个页面只对本社区的部分成员或主持人开放"), (EN, "This page is only for certain members or moderators")]
)
def test_403_says_who_may_see_the_page_and_the_way_home(world: World, headers: dict, sentence: str) -> None:
    client = Client()
    client.force_login(world.resident)
    response = client.get("/refused/", **headers)
    assert response.status_code == 403
    assert sentence in page(response)
    assert '<a class="button" href="/">' in page(response)
    assert "?next=" not in page(response)  # already logged in


@pytest.mark.django_db
@pytest.mark.urls("tests.agora.error_urls")
@pytest.mark.parametrize("headers,sentence,login", [(ZH, "请先登录，再试一次", "登录"), (EN, "Log in, then try again", "Log in")])
def test_403_for_a_visitor_asks_them_to_log_in(headers: dict, sentence: str, login: str) -> None:
    response = Client().get("/refused/", **headers)
    assert response.status_code == 403
    assert sentence in page(response)
    assert f'<a class="button primary" href="{reverse("login")}?next=%2Frefused%2F">{login}</a>' in page(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers,sentence,back", [(ZH, "您提交的表单已失效", "返回上一页"), (EN, "The form you sent has expired", "Go back")]
)
def test_a_refused_form_gets_the_friendly_403_page(world: World, headers: dict, sentence: str, back: str) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.resident)
    response = client.post(reverse("elder_mode"), {"on": "1"}, HTTP_REFERER="http://testserver/sessions/", **headers)
    assert response.status_code == 403
    assert sentence in page(response)
    assert f'<a class="button" href="http://testserver/sessions/">{back}</a>' in page(response)
    assert "CSRF" not in page(response)  # not Django's page for developers


@contextmanager
def database_unreachable() -> Iterator[None]:
    """The default connection now points at nothing: a closed port (PostgreSQL) or a file in
    a folder that does not exist (SQLite). Every query raises OperationalError."""
    saved = copy.deepcopy(connection.settings_dict)
    connection.close()
    if connection.vendor == "postgresql":
        connection.close_pool()
        connection.settings_dict["PORT"] = free_port()
        pool = connection.settings_dict["OPTIONS"].get("pool")
        if pool:
            connection.settings_dict["OPTIONS"]["pool"] = {**pool, "timeout": 1}
    else:
        connection.settings_dict["NAME"] = "/nonexistent-agora-folder/down.sqlite3"
    try:
        yield
    finally:
        connection.close()
        if connection.vendor == "postgresql":
            connection.close_pool()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "headers,language,sentence,retry",
    [
        (ZH, None, "这不是您的操作造成的。请稍等一分钟再试", "再试一次"),
        (EN, None, "It is not something you did. Wait a minute and try again", "Try again"),
        (EN, "zh-hans", "这不是您的操作造成的。请稍等一分钟再试", "再试一次"),
    ],
)
def test_500_renders_in_the_readers_language_while_the_database_is_down(
    tx_world: World, headers: dict, language: str | None, sentence: str, retry: str
) -> None:
    client = Client(raise_request_exception=False)
    client.cookies.load(session_cookie(tx_world.resident, language=language))  # the session lookup fails too
    with database_unreachable():
        response = client.get("/archive/?page=2", **headers)
    assert response.status_code == 500
    assert sentence in page(response)
    assert f'<a class="button primary" href="/archive/?page=2">{retry}</a>' in page(response)
    assert '<a class="button" href="/">' in page(response)


@pytest.mark.django_db
def test_500_after_a_post_offers_the_home_page_not_a_resend(world: World) -> None:
    from agora import views

    request = Client().post("/prefs/elder/", {"on": "1"}, **ZH).wsgi_request
    response = views.server_error(request)
    assert response.status_code == 500
    assert "我们这边出了点问题" in page(response)
    assert "再试一次" not in page(response)
    assert '<a class="button" href="/">返回首页</a>' in page(response)
