"""The chat permission layers: global < company < contact; the most specific
override that is not "inherit" wins."""

from __future__ import annotations

from accounts.models import Contact, User
from chat.models import ChatSettings, PermissionValue


def chat_enabled_globally() -> bool:
    # A read never writes: with no settings row yet, chat is on (the model's default).
    enabled = ChatSettings.objects.filter(pk=1).values_list("chat_enabled", flat=True).first()
    return True if enabled is None else enabled


def chat_allowed_for_contact(contact: Contact) -> bool:
    # Both overrides in one query; the global row only when both inherit.
    contact_value, company_value = (
        Contact.objects.filter(pk=contact.pk)
        .values_list("chat_permission__value", "company__chat_permission__value")
        .first()
    ) or (None, None)
    for value in (contact_value, company_value):
        if value and value != PermissionValue.INHERIT:
            return value == PermissionValue.ALLOW
    return chat_enabled_globally()


def chat_allowed_for_user(user: User) -> bool:
    if not user.is_authenticated or not user.is_client:
        return False
    contact = getattr(user, "contact", None)
    return contact is not None and chat_allowed_for_contact(contact)


def chat_allowed_for_phone(contact: Contact | None) -> bool:
    """Someone writing by SMS or WhatsApp: the layers of the contact its
    number belongs to; a number no contact has only needs chat to be on."""
    return chat_enabled_globally() if contact is None else chat_allowed_for_contact(contact)
