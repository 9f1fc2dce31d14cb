"""The providers, by channel: the only place that names them. A channel is
on when its provider's settings are there (config/settings/base.py)."""

from __future__ import annotations

from django.conf import settings

from chat.channels.providers.base import MediaRefusal, Provider
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


def media_refusal(channel: str, *, content_type: str, size: int) -> MediaRefusal | None:
    """Why a file of this type and size cannot go out on ``channel`` (its
    provider's own limits, whether or not the channel is on now), or None."""
    provider = PROVIDERS.get(channel)
    if provider is None:
        return None
    if not settings.PUBLIC_URL:
        # The provider fetches the file from us (chat.channels.public_media);
        # WhatsApp runs without a public address otherwise (SMS needs one).
        return MediaRefusal("Files cannot be sent to phones: this server has no public address.")
    return provider.media_refusal(content_type=content_type, size=size)
