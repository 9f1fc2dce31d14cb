"""A contact's phone, however it was typed, is kept in E.164 beside it: what
an SMS or WhatsApp sender's number is matched against."""

from __future__ import annotations

import pytest

from accounts.models import Contact
from accounts.phones import e164, readable
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+44 7700 900123", "+447700900123"),
        ("07700 900123", "+447700900123"),  # SWITCHBOARD_PHONE_REGION=GB
        ("(020) 7946-0011", "+442079460011"),
        ("+1 212 555 0143", "+12125550143"),
        ("call me", ""),
        ("", ""),
    ],
)
def test_a_contacts_phone_is_kept_in_e164_too(typed: str, stored: str) -> None:
    contact = ContactFactory(phone=typed)
    assert Contact.objects.get(pk=contact.pk).phone_e164 == stored


def test_changing_only_the_phone_updates_its_e164() -> None:
    contact = ContactFactory(phone="07700 900123")
    contact.phone = "07700 900456"
    contact.save(update_fields=["phone"])
    assert Contact.objects.get(pk=contact.pk).phone_e164 == "+447700900456"


def test_numbers_read_and_shown() -> None:
    assert e164("+44 (0)7700 900123") == "+447700900123"
    assert e164("12") is None
    assert readable("+447700900123") == "+44 7700 900123"
