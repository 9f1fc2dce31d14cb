"""Files in a live chat (chat.files.services): one test (or a few) per rule and
per refusal. A refusal stores nothing: no row, no message, no file on disk."""

from __future__ import annotations

import uuid

import pytest

from chat import messages, receipts, services, transcripts
from chat.errors import ChatNotFound, InvalidState, MessageInvalid
from chat.files import services as attachments
from chat.files.services import AttachmentRefused, AttachmentTooLarge, attachment_send, sniff_image
from chat.models import ChatAttachment, ChatKind, ChatSession, Message, MessageKind
from chat.payloads import message_payload
from chat.transcripts import transcript_lines, transcript_text
from tests.chat.files_helpers import (
    HTML_BYTES,
    PDF_BYTES,
    SVG_BYTES,
    png_bytes,
    stored_files,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(alice, alice_ticket, agent1) -> ChatSession:  # type: ignore[no-untyped-def]
    session = services.session_request(
        client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
    )
    return services.session_join(session_id=session.pk, agent=agent1)


def send(session, user, name="shot.png", content=None, client_id=None):  # type: ignore[no-untyped-def]
    return attachment_send(
        session_id=session.pk,
        author=user,
        client_id=client_id or uuid.uuid4(),
        upload=upload(name, png_bytes() if content is None else content),
    )


def assert_nothing_stored(session: ChatSession, messages_before: int) -> None:
    assert ChatAttachment.objects.count() == 0
    assert Message.objects.filter(session=session).count() == messages_before
    assert stored_files() == []


# --- What is stored ------------------------------------------------------------------


class TestSend:
    def test_client_sends_an_image(self, live, alice):
        before = ChatSession.objects.get(pk=live.pk).last_seq
        result = send(live, alice, "Screen shot.png")
        message = result.message
        assert result.created
        assert message.kind == MessageKind.FILE
        assert message.body == "Screen shot.png"
        assert message.seq == before + 1
        assert message.author == alice
        attachment = message.attachment
        assert attachment.session_id == live.pk
        assert attachment.uploaded_by == alice
        assert attachment.is_image
        assert attachment.content_type == "image/png"
        assert attachment.size == len(png_bytes())
        # Stored under a generated name, never the user's.
        assert attachment.file.name.startswith(f"chats/{live.pk}/")
        assert "Screen" not in attachment.file.name
        assert [p.read_bytes() for p in stored_files()] == [png_bytes()]
        assert ChatSession.objects.get(pk=live.pk).last_seq == message.seq

    def test_agent_sends_a_pdf_download_only(self, live, agent1):
        message = send(live, agent1, "invoice.pdf", PDF_BYTES).message
        assert not message.attachment.is_image
        assert message.attachment.content_type == "application/pdf"
        payload = message_payload(message)["attachment"]
        assert payload == {
            "id": message.attachment.pk,
            "name": "invoice.pdf",
            "size": len(PDF_BYTES),
            "content_type": "application/pdf",
            "url": f"/chat/files/{message.attachment.pk}/",
            "preview_url": None,
        }

    def test_payload_of_an_image_has_a_preview(self, live, alice):
        message = send(live, alice).message
        payload = message_payload(message)
        assert payload["kind"] == "file"
        assert payload["body"] == "shot.png"
        assert payload["attachment"]["preview_url"] == (
            f"/chat/files/{message.attachment.pk}/preview/"
        )

    def test_text_messages_carry_no_attachment(self, live, alice):
        message = services.message_send(
            session_id=live.pk, author=alice, client_id=uuid.uuid4(), body="hi"
        ).message
        assert message_payload(message)["attachment"] is None

    @pytest.mark.parametrize(
        ("name", "content"),
        [
            ("looks.png", HTML_BYTES),  # the name says image, the bytes say HTML
            ("looks.jpg", PDF_BYTES),
            ("notes.gif", b"plain text"),
        ],
    )
    def test_image_names_without_image_bytes_are_download_only(self, live, alice, name, content):
        message = send(live, alice, name, content).message
        assert not message.attachment.is_image
        assert message.attachment.content_type == "application/octet-stream"
        assert message_payload(message)["attachment"]["preview_url"] is None

    def test_image_type_comes_from_the_bytes_not_the_name(self, live, alice):
        # A real PNG named .jpg is a PNG (and gets its preview as one).
        message = send(live, alice, "photo.jpg", png_bytes()).message
        assert message.attachment.is_image
        assert message.attachment.content_type == "image/png"

    def test_broadcast_after_commit_to_the_chat(
        self, live, alice, sent, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            message = send(live, alice).message
            assert sent.of_type("chat.message") == []  # nothing before the commit
        assert callbacks
        ((group, frame),) = sent.of_type("chat.message")
        assert group == f"chat.{live.pk}"
        assert frame["message"]["seq"] == message.seq
        assert frame["message"]["attachment"]["id"] == message.attachment.pk

    def test_restarts_the_inactivity_clock(self, live, alice):
        ChatSession.objects.filter(pk=live.pk).update(inactivity_due_at=None)
        send(live, alice)
        assert ChatSession.objects.get(pk=live.pk).inactivity_due_at is not None

    def test_read_receipt_covers_file_messages(self, live, alice, agent1):
        message = send(live, alice).message
        receipts.participant_mark_read(session_id=live.pk, user=agent1, seq=message.seq)
        message.refresh_from_db()
        assert message.read_at is not None


class TestSniff:
    @pytest.mark.parametrize(
        ("head", "expected"),
        [
            (png_bytes()[:16], "image/png"),
            (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
            (b"GIF87a\x01\x00", "image/gif"),
            (b"GIF89a\x01\x00", "image/gif"),
            (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
            (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
            (SVG_BYTES[:16], None),
            (HTML_BYTES[:16], None),
            (PDF_BYTES[:16], None),
            (b"", None),
        ],
    )
    def test_magic_bytes(self, head, expected):
        assert sniff_image(head) == expected


# --- Refusals: nothing stored ----------------------------------------------------------


class TestRefusals:
    def test_too_large(self, live, alice, settings):
        settings.ATTACHMENT_MAX_BYTES = 20
        before = live.messages.count()
        with pytest.raises(AttachmentTooLarge) as error:
            send(live, alice)
        assert "limit" in error.value.message
        assert error.value.code == "attachment_too_large"
        assert_nothing_stored(live, before)

    @pytest.mark.parametrize("name", ["evil.exe", "drawing.svg", "page.html", "noextension"])
    def test_type_not_allowed(self, live, alice, name):
        before = live.messages.count()
        with pytest.raises(AttachmentRefused) as error:
            send(live, alice, name, b"data")
        assert "not accepted" in error.value.message
        assert error.value.code == "attachment_refused"
        assert_nothing_stored(live, before)

    def test_empty_file(self, live, alice):
        before = live.messages.count()
        with pytest.raises(AttachmentRefused, match="empty"):
            send(live, alice, "empty.txt", b"")
        assert_nothing_stored(live, before)

    def test_bad_client_id(self, live, alice):
        with pytest.raises(MessageInvalid) as error:
            send(live, alice, client_id="not-a-uuid")
        assert error.value.code == "invalid_client_id"
        assert stored_files() == []

    def test_other_agent_is_not_a_participant(self, live, agent2):
        before = live.messages.count()
        with pytest.raises(ChatNotFound):
            send(live, agent2)
        assert_nothing_stored(live, before)

    def test_other_client_is_not_a_participant(self, live, bob):
        before = live.messages.count()
        with pytest.raises(ChatNotFound):
            send(live, bob)
        assert_nothing_stored(live, before)

    def test_supervisor_watching_is_not_a_participant(self, live, supervisor):
        before = live.messages.count()
        with pytest.raises(ChatNotFound):
            send(live, supervisor)
        assert_nothing_stored(live, before)

    def test_client_before_an_agent_joined(self, alice, alice_ticket):
        waiting = services.session_request(
            client=alice, kind=ChatKind.POST_TICKET, ticket_id=alice_ticket.pk
        )
        before = waiting.messages.count()
        with pytest.raises(InvalidState, match="once an agent has joined"):
            send(waiting, alice)
        assert_nothing_stored(waiting, before)

    def test_ended_chat(self, live, alice, agent1):
        services.session_end(session_id=live.pk, agent=agent1)
        before = live.messages.count()
        for user in (alice, agent1):
            with pytest.raises(InvalidState, match="has ended"):
                send(live, user)
        assert_nothing_stored(live, before)

    def test_participant_who_left(self, live, agent1, agent2):
        services.session_end(session_id=live.pk, agent=agent1)
        services.session_leave(session_id=live.pk, user=agent1)
        with pytest.raises(InvalidState):
            send(live, agent1)
        assert stored_files() == []


# --- Idempotency and rollback -------------------------------------------------------------


class TestRetryAndRollback:
    def test_retried_upload_stores_once(self, live, alice):
        client_id = uuid.uuid4()
        first = send(live, alice, client_id=client_id)
        again = send(live, alice, "other-name.png", client_id=client_id)
        assert first.created and not again.created
        assert again.message.pk == first.message.pk
        assert ChatAttachment.objects.count() == 1
        assert Message.objects.filter(session=live, kind=MessageKind.FILE).count() == 1
        assert len(stored_files()) == 1

    def test_retry_after_the_chat_ended_returns_the_stored_message(self, live, alice, agent1):
        client_id = uuid.uuid4()
        first = send(live, alice, client_id=client_id)
        services.session_end(session_id=live.pk, agent=agent1)
        again = send(live, alice, client_id=client_id)
        assert again.message.pk == first.message.pk and not again.created
        assert len(stored_files()) == 1

    def test_a_retry_racing_the_first_upload_keeps_one(self, live, alice, monkeypatch):
        """The unlocked pre-check missed the first upload (it committed in
        between): the locked check finds it, and our copy is deleted."""
        client_id = uuid.uuid4()
        first = send(live, alice, client_id=client_id)
        real = messages.stored
        calls = {"n": 0}

        def miss_once(session_id, cid):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            return None if calls["n"] == 1 else real(session_id, cid)

        monkeypatch.setattr(messages, "stored", miss_once)
        again = send(live, alice, client_id=client_id)
        assert again.message.pk == first.message.pk and not again.created
        assert ChatAttachment.objects.count() == 1
        assert len(stored_files()) == 1

    def test_file_removed_when_the_transaction_rolls_back(self, live, alice, monkeypatch):
        before_seq = ChatSession.objects.get(pk=live.pk).last_seq
        before = live.messages.count()

        def broken(message):  # type: ignore[no-untyped-def]
            raise RuntimeError("database went away")

        monkeypatch.setattr("chat.broadcasts.message_created", broken)
        with pytest.raises(RuntimeError):
            send(live, alice)
        assert_nothing_stored(live, before)
        assert ChatSession.objects.get(pk=live.pk).last_seq == before_seq

    def test_chat_ended_between_check_and_lock(self, live, alice, agent1, monkeypatch):
        """The chat ends while the file is written: the locked re-check
        refuses, and the written file is deleted."""
        real_may_send = attachments._may_send
        calls = {"n": 0}

        def end_after_first_check(participant, **checked):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            real_may_send(participant, **checked)
            if calls["n"] == 1:
                services.session_end(session_id=live.pk, agent=agent1)

        monkeypatch.setattr(attachments, "_may_send", end_after_first_check)
        before = live.messages.count() + 1  # the end's system line
        with pytest.raises(InvalidState):
            send(live, alice)
        assert_nothing_stored(live, before)


# --- Transcript -------------------------------------------------------------------------


class TestTranscript:
    def test_files_are_listed_by_name(self, live, alice, agent1):
        send(live, alice, "screen.png")
        send(live, agent1, "guide.pdf", PDF_BYTES)
        services.session_end(session_id=live.pk, agent=agent1)
        text = transcript_text(live)
        assert f"{alice.full_name} sent a file: screen.png (" in text
        assert f"{agent1.full_name} sent a file: guide.pdf ({len(PDF_BYTES)} bytes)" in text
        lines = [line for line in transcript_lines(live) if line["kind"] == "file"]
        assert [line["attachment"]["name"] for line in lines] == ["screen.png", "guide.pdf"]
        assert str(lines[1]["body_html"]) == f"guide.pdf ({len(PDF_BYTES)} bytes)"

    def test_transcript_on_the_ticket_lists_the_file(self, live, alice, agent1, alice_ticket):
        send(live, alice, "screen.png")
        services.session_end(session_id=live.pk, agent=agent1)
        assert transcripts.transcript_attach(session_id=live.pk)
        transcript = alice_ticket.attachments.get(source_key=f"chat-transcript-{live.pk}")
        assert "sent a file: screen.png" in transcript.file.read().decode()
