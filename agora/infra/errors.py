"""Refusals that a user sees as one clear sentence in their own language."""

from __future__ import annotations

from django.utils.functional import Promise


class Refused(Exception):
    """A rule said no. ``message`` is a (lazy) translated sentence; ``code`` is for machines."""

    def __init__(self, message: str | Promise, *, code: str = "refused") -> None:
        super().__init__(str(code))
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return str(self.message)


class NotAllowed(Refused):
    """The user lacks the permission for this action."""

    def __init__(self, message: str | Promise, *, code: str = "forbidden") -> None:
        super().__init__(message, code=code)
