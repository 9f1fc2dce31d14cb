"""The transcript of a chat as plain text: who said what, when, system lines
included. Used for the ticket attachment and the history tab."""

from __future__ import annotations

from chat.models import ChatSession, MessageKind


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
    for message in session.messages.select_related("author").order_by("seq"):
        stamp = f"{message.created_at:%Y-%m-%d %H:%M:%S}"
        if message.kind == MessageKind.SYSTEM:
            lines.append(f"[{stamp}] * {message.body}")
        else:
            who = message.author.display_name if message.author else "Unknown"
            body = message.body.replace("\n", "\n    ")
            lines.append(f"[{stamp}] {who}: {body}")
    return "\n".join(lines) + "\n"


def transcript_lines(session: ChatSession) -> list[dict[str, object]]:
    """The transcript as rows for a page (escaped by the template)."""
    return [
        {
            "seq": m.seq,
            "kind": m.kind,
            "author": m.author.display_name if m.author else "",
            "body": m.body,
            "at": m.created_at,
        }
        for m in sorted(session.messages.all(), key=lambda m: m.seq)
    ]
