"""The providers, by channel: the only place that names them. A channel is
on when its provider's settings are there (config/settings/base.py)."""

from __future__ import annotations

from chat.channels.providers.base import Provider
from chat.channels.providers.twilio_sms import TwilioSms
from chat.channels.providers.whatsapp_cloud import WhatsAppCloud
from chat.models import Channel

PROVIDERS: dict[str, type[Provider]] = {
    Channel.SMS: TwilioSms,
    Channel.WHATSAPP: WhatsAppCloud,
}


def provider_for(channel: str) -> Provider | None:
    """The provider of ``channel``, or None when the channel is off."""
    provider = PROVIDERS.get(channel)
    return provider() if provider is not None and provider.configured() else None
