"""Template tags for print templates (``{% load pdf_tags %}``, templates extending ``pdf/base.html``)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from agora.infra import pdf

register = template.Library()


@register.simple_tag
def qr_svg(text: str, size: str = "30mm") -> SafeString:
    """``{% qr_svg notice_url size="28mm" %}``: the address as a QR code, vector, for print and screen."""
    return pdf.qr_svg(str(text), size=size)
