"""One way for a page to answer a refusal (agora/infra/errors.py).

- ``NotAllowed`` (the person lacks the right) → the site's 403 page, with the refusal's sentence,
  from any view (``NotAllowedMiddleware``; ``Forbidden`` carries the sentence to ``handler403``,
  agora/views.py ``permission_denied``).
- ``Refused`` (a rule said no to this attempt) → the sentence as a message, in the reader's
  language, and the page the person came from (``@refusals_answered(back=...)``), or the form
  shown again with what they typed and the sentence above it (``with refusal_on(form): ...``).

A view that must answer otherwise (a live frame, a fragment) catches the refusal itself.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from agora.infra.errors import NotAllowed, Refused

View = TypeVar("View", bound=Callable[..., HttpResponse])
# Where a refused attempt sends the person: a URL, or a response of its own (an htmx fragment).
Back = Callable[..., "str | HttpResponse"]


class Forbidden(PermissionDenied):
    """A ``NotAllowed`` on its way to the 403 page, which shows its sentence."""

    def __init__(self, refusal: NotAllowed) -> None:
        super().__init__(refusal.code)
        self.refusal = refusal


def refusal_sentence(exception: BaseException | None) -> Any:
    """The sentence a 403 page shows, if the refusal came from a rule (never Django's own text)."""
    return exception.refusal.message if isinstance(exception, Forbidden) else None


def refusals_answered(*, back: Back, not_allowed_on_page: bool = False) -> Callable[[View], View]:
    """Answer the view's refusals: ``Refused`` → message and ``back(request, *args, **kwargs)``;
    ``NotAllowed`` → the 403 page (left to ``NotAllowedMiddleware``), unless ``not_allowed_on_page``: where the person sees the
    thing and only may not act on it (vote, sign up, check in, post), the reason is said on
    the page they came from, like any other refusal."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def answered(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except Refused as refusal:
                if isinstance(refusal, NotAllowed) and not not_allowed_on_page:
                    raise
                return refused_back(request, refusal, back(request, *args, **kwargs))

        return answered  # type: ignore[return-value]

    return decorate


def refused_back(request: HttpRequest, refusal: Refused, target: str | HttpResponse) -> HttpResponse:
    messages.error(request, str(refusal))
    return target if isinstance(target, HttpResponse) else redirect(target)


class NotAllowedMiddleware:
    """``NotAllowed`` from any view → the 403 page (``Forbidden``, then Django's ``handler403``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotAllowed):
            raise Forbidden(exception) from exception
        return None


class _Form(Protocol):
    def add_error(self, field: str | None, error: Any) -> None: ...


@dataclass
class Attempt:
    refusal: Refused | None = None

    @property
    def status(self) -> int:
        """The status of the form shown again: 429 when the person is sending too often."""
        return 429 if self.refusal is not None and self.refusal.code == "rate_limited" else 200


@contextmanager
def refusal_on(form: _Form) -> Iterator[Attempt]:
    """A ``Refused`` (or a ``ValidationError``) inside the block becomes the form's error (said
    once, above the form that still holds what was typed) and the view goes on to show the form again. ``NotAllowed``
    passes on to the 403 page."""
    attempt = Attempt()
    try:
        yield attempt
    except ValidationError as error:  # what the form could tell only once it was read further
        form.add_error(None, error)
    except NotAllowed:
        raise
    except Refused as refusal:
        form.add_error(None, str(refusal))
        attempt.refusal = refusal
