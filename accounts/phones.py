"""Phone numbers: the one way a number is read (E.164, with
``SWITCHBOARD_PHONE_REGION`` for numbers written without a country code) and
shown. A contact's phone is kept as typed and, beside it, in E.164 for
matching (``Contact.phone_e164``): an SMS or WhatsApp sender is found by it."""

from __future__ import annotations

import phonenumbers
from django.conf import settings


def e164(raw: str) -> str | None:
    """``raw`` as E.164 (``+447700900123``), or None when it cannot be a
    number. Possible, not necessarily assigned: the providers hand over what
    the network delivered, and both sides of a match go through here."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        number = phonenumbers.parse(raw, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def readable(number: str) -> str:
    """An E.164 number as people write it internationally (``+44 7700 900123``)."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
