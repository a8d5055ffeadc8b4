"""Invitation sheets as one streamed A4 PDF: the page laid out once
(``templates/roster/invitation_pdf.html``) and stamped per person with their name, room, code, QR
code and expiry (agora/infra/pdf.py). The QR code holds the login address with the code
(``…/i/<code>/``); the page it opens asks for one tap before it uses the code, so a link preview
cannot use it up."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.utils import formats, timezone

from agora.infra.pdf import PdfTemplate, Qr, stream_pdf
from agora.roster.invitations import IssuedCode, code_printed
from agora.roster.models import Community, Resident
from agora.roster.names import display_name

TEMPLATE = "roster/invitation_pdf.html"


def sheet_fill(issued: IssuedCode, *, room: str, login_url: str) -> dict[str, str | Qr]:
    expires = timezone.localtime(issued.invitation.expires_at)
    return {
        "name": display_name(issued.invitation.user),
        "room": room,
        "code": code_printed(issued.code),
        "qr": Qr(f"{login_url}{code_printed(issued.code)}/"),
        "expires": formats.date_format(expires, "DATE_FORMAT"),
    }


def sheets_pdf(*, community: Community, issued: Sequence[IssuedCode], login_url: str, entry_address: str) -> Iterator[bytes]:
    """``login_url``: the absolute address ``…/i/`` that a code is appended to."""
    rooms: dict[int, str] = {
        r.user_id: str(r.household)
        for r in Resident.objects.filter(community=community, user__in=[i.invitation.user_id for i in issued]).select_related(
            "household__building"
        )
    }
    template = PdfTemplate.from_template(TEMPLATE, {"community": community.name, "entry_address": entry_address})
    fills: list[dict[str, Any]] = [sheet_fill(i, room=rooms.get(i.invitation.user_id, "—"), login_url=login_url) for i in issued]
    return stream_pdf(template, iter(fills), title=community.name)
