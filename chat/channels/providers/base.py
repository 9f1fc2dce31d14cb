"""The one small interface of an SMS or WhatsApp provider, and the HTTP
helpers the providers share.

A provider reads its webhooks (:meth:`Provider.inbound`: the signature first,
then the parse, so nothing unsigned is ever parsed), sends a text
(:meth:`Provider.send_text`), a file an agent attached
(:meth:`Provider.send_media`, which the provider fetches from our public media
URL, chat.channels.public_media; :meth:`Provider.media_refusal` says first
which files it takes) or, on WhatsApp, an approved template
(:meth:`Provider.send_template`), and fetches an inbound file
(:meth:`Provider.fetch_media`). Everything provider-specific (URLs, fields,
signatures, status names) stays in its module; the rest of chat sees only the
shapes below. Adding a provider is one more module and one line in
``providers/__init__.py``.

Every call has a timeout. A failed send says whether the provider can have
sent anything (chat.channels.delivery calls it again only when it cannot).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import requests
from django.http import HttpRequest, HttpResponse
from urllib3.exceptions import NewConnectionError

# (connect, read) seconds of every call to a provider: together under the
# tasks' soft time limit (SWITCHBOARD_TASK_TIME_LIMIT_SECONDS, 10 s), so a slow
# provider ends as a SendError the task can judge, not as a cut-off task.
TIMEOUT = (3, 6)


@dataclass(frozen=True)
class MediaRefusal:
    """Why a provider would not send a file, in words for the agent.
    ``too_large``: it takes files of this type, only not of this size."""

    message: str
    too_large: bool = False


@dataclass(frozen=True)
class InboundMedia:
    """A file that came with a message, fetched later (chat.inbound.media)."""

    ref: str  # the provider's handle: a URL (Twilio) or a media id (WhatsApp)
    content_type: str
    filename: str = ""  # the sender's name for it, when the provider gives one


@dataclass(frozen=True)
class InboundMessage:
    provider_message_id: str
    sender: str  # the number as the provider wrote it
    text: str = ""
    profile_name: str = ""  # WhatsApp's name for the sender
    media: tuple[InboundMedia, ...] = ()
    # What arrived that cannot be shown ("a location"), else empty.
    unshowable: str = ""


@dataclass(frozen=True)
class StatusReport:
    """How far a message we sent got: ``status`` is a DeliveryStatus value
    (sent, delivered, read, failed); ``error`` the provider's words."""

    provider_message_id: str
    status: str
    error: str = ""


@dataclass(frozen=True)
class Inbound:
    """What one webhook call carried."""

    messages: tuple[InboundMessage, ...] = ()
    statuses: tuple[StatusReport, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class OutboundTemplate:
    """An approved WhatsApp template as sent: its name and language at Meta
    and the values of its {{1}}, {{2}}... in order."""

    name: str
    language: str
    parameters: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutboundMedia:
    """A file sent to a client: the provider fetches it from ``url`` (public,
    unguessable, expiring). ``caption`` may be empty."""

    url: str
    content_type: str
    filename: str
    caption: str = ""


@dataclass(frozen=True)
class FetchedMedia:
    content: bytes
    content_type: str


class BadSignature(Exception):
    """The webhook is not signed with our secret: nothing of it is read."""


class BadPayload(Exception):
    """A signed webhook we cannot read."""


class SendError(Exception):
    """A send that did not succeed; ``str(error)`` says why, for the agent."""


class ProviderUnavailable(SendError):
    """Nothing was sent (the provider was not reached, or answered "not now"):
    the send may be tried again."""


class ProviderRefused(SendError):
    """The provider answered no (a bad number, a blocked sender...): final."""


class ProviderUncertain(SendError):
    """The request may have reached the provider but no answer came: whether
    it sent the message is unknown, so it is not sent again."""


class MediaError(Exception):
    """A file could not be fetched; ``retry`` when trying later may help."""

    def __init__(self, message: str, *, retry: bool = False) -> None:
        super().__init__(message)
        self.retry = retry


class Provider(ABC):
    channel: ClassVar[str]

    @classmethod
    @abstractmethod
    def configured(cls) -> bool:
        """Whether its settings are there (settings refuse half of them)."""

    def inbound(self, request: HttpRequest) -> Inbound:
        """A webhook call, its signature checked before anything is parsed:
        BadSignature for an unsigned or wrongly signed one, BadPayload for a
        signed one we cannot read."""
        if not self.signature_valid(request):
            raise BadSignature(f"bad or missing signature on {request.path}")
        return self.parse(request)

    @abstractmethod
    def signature_valid(self, request: HttpRequest) -> bool: ...

    @abstractmethod
    def parse(self, request: HttpRequest) -> Inbound: ...

    @abstractmethod
    def webhook_answer(self) -> HttpResponse:
        """What a webhook call that was read is answered with."""

    @abstractmethod
    def send_text(self, *, to: str, body: str) -> str:
        """Send ``body`` to the E.164 number ``to``; the provider's id of the
        message, or a SendError."""

    def send_template(self, *, to: str, template: OutboundTemplate) -> str:
        """Send an approved template (WhatsApp's only way to write outside the
        24-hour window); the provider's id, or a SendError. A provider
        without templates refuses."""
        raise ProviderRefused(f"{type(self).__name__} sends no templates.")

    @classmethod
    @abstractmethod
    def media_refusal(cls, *, content_type: str, size: int) -> MediaRefusal | None:
        """Why this provider would not send a file of this type and size (for
        the agent, before anything is stored), or None when it takes it."""

    @abstractmethod
    def send_media(self, *, to: str, media: OutboundMedia) -> str:
        """Send a file to the E.164 number ``to``; the provider's id of the
        message, or a SendError."""

    @abstractmethod
    def fetch_media(self, media: InboundMedia, *, max_bytes: int) -> FetchedMedia:
        """The bytes of an inbound file (at most ``max_bytes``), or MediaError."""


# --- HTTP ---------------------------------------------------------------------------


def call(method: str, url: str, **kwargs: Any) -> requests.Response:
    """One request to a provider with the timeout; a failure as SendError
    subclasses that say whether the provider can have acted on it."""
    try:
        return requests.request(method, url, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as exc:
        if _not_sent(exc):
            raise ProviderUnavailable(f"The provider could not be reached ({_why(exc)}).") from exc
        raise ProviderUncertain(
            f"The provider did not answer ({_why(exc)}); the message may or may not have been sent."
        ) from exc


def _not_sent(exc: requests.RequestException) -> bool:
    """Whether the request certainly never reached the provider (no
    connection was made), as opposed to a read that timed out or broke."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


def _why(exc: Exception) -> str:
    return type(exc).__name__


def answered(response: requests.Response, error_text: str) -> requests.Response:
    """``response`` if it is a success; else ProviderUnavailable for "not now"
    (429, 5xx: nothing was sent) or ProviderRefused with ``error_text``."""
    if response.ok:
        return response
    if response.status_code == 429 or response.status_code >= 500:
        raise ProviderUnavailable(f"The provider is unavailable (HTTP {response.status_code}).")
    raise ProviderRefused(error_text or f"The provider refused it (HTTP {response.status_code}).")


def json_of(response: requests.Response) -> Mapping[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def download(url: str, *, max_bytes: int, **kwargs: Any) -> FetchedMedia:
    """GET a file, refusing more than ``max_bytes`` without reading it all."""
    try:
        with requests.get(url, timeout=TIMEOUT, stream=True, **kwargs) as response:
            if response.status_code == 429 or response.status_code >= 500:
                raise MediaError(f"the file server answered {response.status_code}", retry=True)
            if not response.ok:
                raise MediaError(f"the file server answered {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise MediaError("the file is larger than attachments may be")
                chunks.append(chunk)
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
            return FetchedMedia(b"".join(chunks), content_type)
    except requests.RequestException as exc:
        raise MediaError(f"the file could not be fetched ({_why(exc)})", retry=True) from exc
