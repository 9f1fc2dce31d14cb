"""The providers' webhooks: CSRF-exempt (the providers sign them instead),
404 while the channel is off, the signature checked before anything is
parsed or stored. A bad or missing signature is refused with 403 and one
warning: it is someone else's request, not our error. Everything read goes
to chat.inbound.receive (messages) and chat.channels.delivery (status
reports); the answer is what the provider expects (Twilio: empty TwiML)."""

from __future__ import annotations

import logging

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
)
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from chat.channels import delivery
from chat.channels.providers import provider_for
from chat.channels.providers.base import BadPayload, BadSignature, Provider
from chat.channels.providers.whatsapp_cloud import verification_answer
from chat.inbound import receive
from chat.models import Channel

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def twilio_sms(request: HttpRequest) -> HttpResponse:
    return _received(request, Channel.SMS)


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    return _received(request, Channel.SMS)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        _provider(Channel.WHATSAPP)
        return verification_answer(request)
    return _received(request, Channel.WHATSAPP)


def _provider(channel: str) -> Provider:
    provider = provider_for(channel)
    if provider is None:
        raise Http404("This channel is not switched on.")
    return provider


def _received(request: HttpRequest, channel: str) -> HttpResponse:
    provider = _provider(channel)
    try:
        inbound = provider.inbound(request)
    except BadSignature as exc:
        logger.warning(
            "%s webhook refused from %s: %s", channel, request.META.get("REMOTE_ADDR"), exc
        )
        return _logged(HttpResponseForbidden("Bad signature."))
    except BadPayload as exc:
        logger.warning("%s webhook signed but unreadable: %s", channel, exc)
        return _logged(HttpResponseBadRequest("Unreadable payload."))
    for message in inbound.messages:
        receive.message_receive(channel=channel, message=message)
    for report in inbound.statuses:
        delivery.status_record(report)
    return provider.webhook_answer()


def _logged(response: HttpResponse) -> HttpResponse:
    """Our warning above says why; Django's own "Forbidden: <path>" for the
    same request would be a second line about it (django.utils.log.log_response
    skips a response marked like this)."""
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response
