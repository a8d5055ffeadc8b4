"""The reminder banner on every page (templates/base.html): an owner whose unit has not voted
on an open decision sees it until their unit votes. Lazy: the query (one) runs only when a page
renders the banner, and once per request."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from voting.decisions.pages.selectors import reminder_banner


def decision_reminders(request: HttpRequest) -> dict[str, Any]:
    return {"decision_reminders": lambda: reminder_banner(request)}
