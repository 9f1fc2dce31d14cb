"""Serving private attachments.

Files never sit under a public URL; this view is the only way out, and it
asks ``attachment_for_download`` first. Everything is sent as a download:
a browser must never render an uploaded HTML or SVG file in our origin.
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from tickets import selectors
from tickets.models import TicketAttachment

# Types a browser could run script from if it ever displayed them.
ACTIVE_CONTENT_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
    }
)


def safe_content_type(stored: str) -> str:
    base = stored.split(";", 1)[0].strip().lower()
    if not base or base in ACTIVE_CONTENT_TYPES or "/" not in base:
        return "application/octet-stream"
    return base


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """RFC 6266: an ASCII fallback plus the exact UTF-8 name. A download
    (``attachment``) unless ``inline``: shown in place, under that name."""
    kind = "inline" if inline else "attachment"
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def locked_down(
    response: FileResponse, *, cache_control: str = "private, max-age=0, must-revalidate"
) -> FileResponse:
    """The headers every served upload carries: the browser keeps the given
    type (``nosniff``), and even if it displayed the file, nothing in it
    could run or load (a sandboxing CSP)."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = cache_control
    return response


@require_GET
@login_required
def attachment_download(request: HttpRequest, attachment_id: int) -> FileResponse:
    # Anonymous: a login redirect for every id alike. Logged in: a file the
    # user may not read is a 404, the same as one that does not exist.
    try:
        attachment = selectors.attachment_for_download(request.user, attachment_id)
        handle = attachment.file.open("rb")
    except (TicketAttachment.DoesNotExist, FileNotFoundError) as exc:
        raise Http404("No such file.") from exc
    response = FileResponse(handle, content_type=safe_content_type(attachment.content_type))
    response["Content-Disposition"] = content_disposition(attachment.original_name)
    return locked_down(response)
