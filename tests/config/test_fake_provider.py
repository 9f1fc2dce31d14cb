"""The local fake provider of `SWITCHBOARD_FAKE_PROVIDERS=1 make run` shows
what the app sent, a WhatsApp template by its name and values."""

from __future__ import annotations

from config.fake_provider import whatsapp_text


def test_a_template_shows_by_its_name_and_values() -> None:
    sent = {
        "messaging_product": "whatsapp",
        "to": "447700900456",
        "type": "template",
        "template": {
            "name": "ticket_follow_up",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Erin"},
                        {"type": "text", "text": "Priya"},
                    ],
                }
            ],
        },
    }

    assert whatsapp_text(sent) == "[template ticket_follow_up (en_US)] Erin | Priya"
    assert whatsapp_text({"type": "text", "text": {"body": "Hello"}}) == "Hello"
