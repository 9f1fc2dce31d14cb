"""The public media URL (chat.channels.public_media): the file of an agent's
message as Twilio or Meta fetch it to send it, without a login. A token that
is not ours, has expired or names a file that does not go out to a phone is
a 404, the same as no file. GET and HEAD: Twilio checks the content type with
HEAD before it fetches."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_safe

from chat.channels import public_media
from chat.models import ChatAttachment
from tickets.views_files import content_disposition, locked_down, safe_content_type


@require_safe
def media_file(request: HttpRequest, token: str) -> FileResponse:
    try:
        attachment = public_media.attachment_for(token)
        handle = attachment.file.open("rb")
    except (ChatAttachment.DoesNotExist, FileNotFoundError) as exc:
        raise Http404("No such file.") from exc
    response = FileResponse(handle, content_type=safe_content_type(attachment.content_type))
    # Inline: the name is the one the provider gives the file on the phone.
    response["Content-Disposition"] = content_disposition(attachment.original_name, inline=True)
    # The link is a bearer token: nothing keeps a copy, no search engine lists it.
    response["X-Robots-Tag"] = "noindex"
    return locked_down(response, cache_control="private, no-store")
