"""The transcript of a chat: who said what, when, system lines included. As
plain text for the ticket attachment and the email's text part (markdown stays
as typed), and as rows with formatted bodies for the history tab and the
email's HTML part."""

from __future__ import annotations

from django.utils.safestring import SafeString

from chat.attachments import human_size
from chat.formatting import render_markdown, render_plain
from chat.models import ChatSession, Message, MessageKind
from chat.payloads import attachment_payload


def transcript_filename(session: ChatSession) -> str:
    return f"chat-{session.pk}-transcript.txt"


def transcript_text(session: ChatSession) -> str:
    title = session.title
    lines = [
        f"Chat {session.pk}: {title}",
        f"Client: {session.client.display_name} ({session.contact.company.name})",
        f"Requested: {session.requested_at:%Y-%m-%d %H:%M:%S %Z}",
    ]
    if session.ended_at:
        lines.append(f"Ended: {session.ended_at:%Y-%m-%d %H:%M:%S %Z}")
    lines.append("")
    for message in session.messages.select_related("author", "attachment").order_by("seq"):
        stamp = f"{message.created_at:%Y-%m-%d %H:%M:%S}"
        if message.kind == MessageKind.SYSTEM:
            lines.append(f"[{stamp}] * {message.body}")
        elif message.kind == MessageKind.FILE:
            who = message.author.display_name if message.author else "Unknown"
            lines.append(f"[{stamp}] {who} sent a file: {_file_label(message)}")
        else:
            who = message.author.display_name if message.author else "Unknown"
            body = message.body.replace("\n", "\n    ")
            lines.append(f"[{stamp}] {who}: {body}")
    return "\n".join(lines) + "\n"


def transcript_lines(session: ChatSession) -> list[dict[str, object]]:
    """The transcript as rows for a page or the HTML email: ``body_html`` is
    the formatted message, sanitized (chat.formatting), so templates print it
    as is; everything else is escaped by the template."""
    return [
        {
            "seq": m.seq,
            "kind": m.kind,
            "author": m.author.display_name if m.author else "",
            "body": m.body,
            "body_html": _body_html(m),
            "at": m.created_at,
            # File lines: the page links to the access-checked download
            # (chat.views_files); the email shows the name only.
            "attachment": attachment_payload(m.attachment) if m.attachment_id else None,
        }
        for m in sorted(session.messages.all(), key=lambda m: m.seq)
    ]


def _file_label(message: Message) -> str:
    """A file message as "name (size)": the name is what the sender's
    computer called it, so it is only ever printed escaped."""
    if message.attachment_id and message.attachment:
        return f"{message.body} ({human_size(message.attachment.size)})"
    return f"{message.body} (removed)"


def _body_html(message: Message) -> SafeString:
    if message.kind == MessageKind.TEXT:
        return render_markdown(message.body)
    if message.kind == MessageKind.FILE:
        # Escaped text; the history page wraps it in the download link.
        return render_plain(_file_label(message))
    return render_plain(message.body)
