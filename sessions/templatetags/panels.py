"""``{% panel shown %}``: render one session page panel's fragment with the context its builder
made (sessions/panels.py). Rendering only: no reads, no writes."""

from __future__ import annotations

from django import template
from django.template import Engine
from django.utils.safestring import SafeString

from sessions.panels import Shown

register = template.Library()


@register.simple_tag(takes_context=True)
def panel(context: template.Context, shown: Shown) -> SafeString:
    engine = context.template.engine if context.template is not None else Engine.get_default()
    fragment = engine.get_template(shown.template)
    with context.push(shown.context):
        return fragment.render(context)
