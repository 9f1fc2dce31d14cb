"""Files in a chat over HTTP: the upload of the paperclip / drop / paste, and
the only two ways out of private storage (chat.files.services checks access).

As tickets.views_files: a download is always ``Content-Disposition:
attachment`` with ``nosniff`` and a sandboxing CSP, so an uploaded HTML or SVG
file never runs in our origin. The preview serves inline only the four raster
formats, and only when the stored bytes still are one (sniffed again here).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from chat.errors import ChatError, ChatForbidden, ChatNotFound, InvalidState
from chat.files import services as attachments
from chat.models import ChatAttachment
from chat.payloads import message_payload
from tickets.views_files import content_disposition, locked_down, safe_content_type

# Room for the multipart envelope and the client_id field around the file.
MULTIPART_OVERHEAD = 64 * 1024


def _error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


def _status_of(exc: ChatError) -> int:
    if isinstance(exc, ChatNotFound):
        return 404
    if isinstance(exc, ChatForbidden):
        return 403
    if isinstance(exc, InvalidState):
        return 409
    if isinstance(exc, attachments.AttachmentTooLarge):
        return 413
    return 400


@require_POST
def upload(request: HttpRequest, session_id: int) -> JsonResponse:
    """``multipart/form-data`` with ``file`` and ``client_id`` (a UUID chosen by
    the browser; resending the same one returns the stored message). CSRF is
    checked by the middleware (the X-CSRFToken header from the csrftoken
    cookie). Answers ``{"message": ...}`` as a chat.send ack does, 201 when
    stored now, 200 for a resend; a refusal is ``{"code", "message"}``."""
    if not request.user.is_authenticated:
        # A JSON answer, not a login redirect: the caller is fetch().
        return _error("unauthenticated", "Your session has ended; log in again.", 401)
    limit = settings.ATTACHMENT_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit + MULTIPART_OVERHEAD:
        # Refused before the body is read: nothing of it reaches the disk.
        return _error(
            "attachment_too_large",
            f"The file is larger than the {limit / (1024 * 1024):g} MB limit.",
            413,
        )
    file = request.FILES.get("file")
    if file is None:
        return _error("attachment_missing", "Choose a file to send.", 400)
    try:
        result = attachments.attachment_send(
            session_id=session_id,
            author=request.user,
            client_id=request.POST.get("client_id", ""),
            upload=file,
        )
    except ChatError as exc:
        return _error(exc.code, exc.message, _status_of(exc))
    return JsonResponse(
        {"message": message_payload(result.message), "created": result.created},
        status=201 if result.created else 200,
    )


def _open(request: HttpRequest, attachment_id: int) -> tuple[ChatAttachment, object]:
    # Logged in: a file the user may not read is a 404, the same as one that
    # does not exist (ids cannot be probed).
    try:
        attachment = attachments.attachment_for(request.user, attachment_id)
        handle = attachment.file.open("rb")
    except (ChatAttachment.DoesNotExist, FileNotFoundError) as exc:
        raise Http404("No such file.") from exc
    return attachment, handle


@require_GET
@login_required
def download(request: HttpRequest, attachment_id: int) -> FileResponse:
    attachment, handle = _open(request, attachment_id)
    response = FileResponse(handle, content_type=safe_content_type(attachment.content_type))
    response["Content-Disposition"] = content_disposition(attachment.original_name)
    return locked_down(response)


@require_GET
@login_required
def preview(request: HttpRequest, attachment_id: int) -> FileResponse:
    """The inline image of the chat's thumbnail: raster images only, their
    type taken from the bytes (never the name); anything else is a 404 here
    and stays a download."""
    attachment, handle = _open(request, attachment_id)
    image_type = attachments.sniff_image(handle.read(attachments.SNIFF_BYTES))
    if not attachment.is_image or image_type is None:
        handle.close()
        raise Http404("No preview for this file.")
    handle.seek(0)
    response = FileResponse(handle, content_type=image_type)
    response["Content-Disposition"] = content_disposition(attachment.original_name, inline=True)
    return locked_down(response)
