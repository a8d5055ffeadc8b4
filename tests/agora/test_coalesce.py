"""Coalesced announcements (agora/infra/coalesce.py): a count read earlier is never announced
after one read later."""

from __future__ import annotations

import threading
import time

import pytest

from agora.infra.coalesce import Coalescer


@pytest.mark.django_db(transaction=True)
def test_a_slow_leading_send_is_not_overtaken_by_the_trailing_one() -> None:
    """The leading send reads count 1 and is slow to hand it on (a loaded machine); the trailing
    send, due 50 ms later, reads count 2. The room must get 1 then 2, never 2 then 1."""
    coalescer = Coalescer(lambda: 0.05)
    announced: list[int] = []
    done = threading.Event()

    def leading() -> None:
        count = 1  # read now
        time.sleep(0.3)  # ... handed on late
        announced.append(count)

    def trailing() -> None:
        announced.append(2)
        done.set()

    first = threading.Thread(target=coalescer.submit, args=("motion.1",), kwargs={"send_now": leading, "send_later": trailing})
    first.start()
    time.sleep(0.01)
    coalescer.submit("motion.1", send_now=trailing, send_later=trailing)  # within the interval: trailing
    first.join(5)
    assert done.wait(5), "the trailing send never ran"
    assert announced == [1, 2]


def test_at_most_one_leading_and_one_trailing_send_per_interval() -> None:
    coalescer = Coalescer(lambda: 60.0)
    sent: list[str] = []
    for _ in range(5):
        coalescer.submit("k", send_now=lambda: sent.append("now"), send_later=lambda: sent.append("later"))
    assert sent == ["now"]  # the trailing one is due in 60 s; the other three ride on it
    coalescer.reset()
