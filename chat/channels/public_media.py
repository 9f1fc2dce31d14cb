"""The address a provider fetches an agent's file from.

Twilio and Meta take a file to send as a URL and fetch it themselves, without
our login. So a file an agent sends into an SMS or WhatsApp chat gets a
public URL under SWITCHBOARD_PUBLIC_URL: ``/channels/media/<token>/``, the
token the attachment's id signed with SECRET_KEY (django.core.signing, its own
salt) and a timestamp. Nobody can make one without the key, nor change the id
in it, and it expires after URL_SECONDS. It opens only files that go out to a
phone (the message has a delivery status, in an SMS or WhatsApp chat): never
a client's upload or a portal chat's file, whatever token names them.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from chat.models import Channel, ChatAttachment, DeliveryStatus

SALT = "chat.channels.public_media"
# Long enough for a send retried for minutes (chat.tasks.DELIVERY_TRIES) and a
# provider that fetches late; Meta keeps what it fetched for its own 14 days.
URL_SECONDS = 24 * 60 * 60


def public_url(attachment_id: int) -> str:
    """A fresh URL of the file for the provider (valid URL_SECONDS)."""
    token = signing.dumps(attachment_id, salt=SALT)
    return settings.PUBLIC_URL + reverse("channel_media:file", args=[token])


def attachment_for(token: str) -> ChatAttachment:
    """The attachment a token names, if the token is ours and current and the
    file goes out to a phone; ChatAttachment.DoesNotExist otherwise (the view
    answers 404 to all of them alike)."""
    try:
        attachment_id = signing.loads(token, salt=SALT, max_age=URL_SECONDS)
    except signing.BadSignature as exc:  # SignatureExpired included
        raise ChatAttachment.DoesNotExist from exc
    if type(attachment_id) is not int:
        raise ChatAttachment.DoesNotExist
    return (
        ChatAttachment.objects.filter(pk=attachment_id)
        .filter(
            session__channel__in=(Channel.SMS, Channel.WHATSAPP),
            # Stored to go out (queued...): an agent's file. A client's has none.
            message__delivery_status__in=DeliveryStatus.values,
        )
        .get()
    )
