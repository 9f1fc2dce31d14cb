"""The public media URL (chat.channels.public_media): the file of an agent's
message as Twilio or Meta fetch it to send it, without a login. A token that
is not ours, has expired or names a file that does not go out to a phone is
a 404, the same as no file. GET and HEAD: Twilio checks the content type with
HEAD before it fetches."""

from __future__ import annotations

from urllib.parse import quote

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_safe

from chat.channels import public_media
from chat.models import ChatAttachment
from tickets.views_files import safe_content_type


def inline_disposition(filename: str) -> str:
    """RFC 6266, inline: the name the provider gives the file on the phone."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@require_safe
def media_file(request: HttpRequest, token: str) -> FileResponse:
    try:
        attachment = public_media.attachment_for(token)
        handle = attachment.file.open("rb")
    except (ChatAttachment.DoesNotExist, FileNotFoundError) as exc:
        raise Http404("No such file.") from exc
    response = FileResponse(handle, content_type=safe_content_type(attachment.content_type))
    response["Content-Disposition"] = inline_disposition(attachment.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    # Nothing in it may run or load, should a browser open the link.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
