"""Template tags of the presence toggle and agent lists."""

from __future__ import annotations

import json

from django import template

from presence.models import PresenceStatus

register = template.Library()


@register.simple_tag
def presence_labels() -> str:
    """The agents' presence statuses, {value: label}, as JSON for a data-*
    attribute (presence.js, the supervisor console; read with static/js/dom.js's
    dataJson())."""
    return json.dumps({str(value): str(label) for value, label in PresenceStatus.choices})
