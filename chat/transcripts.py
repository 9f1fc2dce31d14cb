"""The transcript of a chat: who said what, when, system lines included. As
plain text for the ticket attachment and the email's text part (markdown stays
as typed), and as rows with formatted bodies for the history tab and the
email's HTML part; and the two things done with it once a chat ends
(chat.tasks runs them): attached to the ticket with a note, and emailed to the
client. Both are idempotent, so a retried or repeated task does them once.
"""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from accounts.models import User
from accounts.time_zones import format_in, zone_name_of, zone_of
from chat import lifecycle
from chat.formatting import human_size, render_markdown, render_plain
from chat.models import ChatSession, Message, MessageKind, SessionStatus
from chat.payloads import attachment_payload
from tickets import services as ticket_services

# A chat has a transcript to attach or email once it is over.
OVER = (SessionStatus.ENDED, SessionStatus.CLOSED)
# The transcript's TicketAttachment.source_key is this and the chat's id: one
# per chat, so attaching it twice leaves one (chat.requeue looks for it too).
TRANSCRIPT_KEY_PREFIX = "chat-transcript-"


def transcript_filename(session: ChatSession) -> str:
    return f"chat-{session.pk}-transcript.txt"


def transcript_text(session: ChatSession, *, reader: User | None = None) -> str:
    """The transcript as plain text, its times in ``reader``'s zone (the
    client's by default: the file on the ticket and the email are the
    client's record), each line by its time, with a line for each new day."""
    reader = reader or session.client
    title = session.title
    company = session.contact.company.name if session.contact else "no contact linked"
    # Staff know chats by number (the supervisor's lists); a client by its day.
    heading = (
        f"Your chat of {format_in(session.requested_at, reader, 'DATE_FORMAT')}: {title}"
        if reader.is_client
        else f"Chat {session.pk}: {title}"
    )
    lines = [heading, f"Client: {session.client.display_name} ({company})"]
    if session.by_phone:
        lines.append(f"Channel: {session.get_channel_display()}, {session.client_address}")
    lines.append(f"Requested: {format_in(session.requested_at, reader)}")
    if session.ended_at:
        lines.append(f"Ended: {format_in(session.ended_at, reader)}")
    lines.append(f"Times are in {zone_name_of(reader)}.")
    lines.append("")
    day = format_in(session.requested_at, reader, "DATE_FORMAT")
    for message in session.messages.select_related("author", "attachment").order_by("seq"):
        if (message_day := format_in(message.created_at, reader, "DATE_FORMAT")) != day:
            day = message_day
            lines.append(f"--- {day} ---")
        stamp = format_in(message.created_at, reader, "TIME_FORMAT")
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
            # (chat.files.views); the email shows the name only.
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


def transcript_attach(*, session_id: int) -> bool:
    """Attach the transcript of an ended chat to its ticket, with a note.
    Idempotent: the file is keyed on the session, so a retried or repeated
    task leaves one file and one note. Returns True if it attached now."""
    with transaction.atomic():
        session = lifecycle.lock(session_id)
        if session.ticket is None or session.status not in OVER:
            return False
        name = transcript_filename(session)
        _attachment, created = ticket_services.system_attachment_add(
            ticket=session.ticket,
            name=name,
            content=transcript_text(session).encode("utf-8"),
            content_type="text/plain",
            source_key=f"{TRANSCRIPT_KEY_PREFIX}{session.pk}",
            # A public note: words for the client, no chat number.
            note=f"The chat has ended; its transcript is attached as {name}.",
            note_author=session.ended_by,
        )
        return created


def transcript_email(*, session_id: int) -> bool:
    """Email the transcript of an ended chat to its client, once.

    The stamp is set by a conditional UPDATE in the transaction that sends, so
    a repeated or concurrent task finds it set and sends nothing; if sending
    fails the stamp rolls back and the retry sends.
    """
    with transaction.atomic():
        claimed = ChatSession.objects.filter(
            pk=session_id, transcript_emailed_at__isnull=True, status__in=OVER
        ).update(transcript_emailed_at=timezone.now())
        if not claimed:
            return False
        session = ChatSession.objects.select_related("client", "contact__company", "ticket").get(
            pk=session_id
        )
        if session.by_phone:
            # The number's user has no mailbox: the contact's address, if any.
            address = session.contact.email if session.contact else ""
        else:
            address = session.client.email or session.contact.email
        if not address:
            return False
        context = {"session": session, "lines": transcript_lines(session)}
        email = EmailMultiAlternatives(
            subject=f"Transcript of your chat: {session.title}",
            body=transcript_text(session),
            to=[address],
        )
        # The client's zone for the template's dates, as for the text part.
        with timezone.override(zone_of(session.client)):
            html = render_to_string("chat/email/transcript.html", context)
        email.attach_alternative(html, "text/html")
        email.send()
        return True
