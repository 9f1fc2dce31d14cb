"""The PhoneClient of a number: the user that stands for an SMS or WhatsApp
number in its chats (chat.models.PhoneClient), created with it the first
time the number writes (chat.inbound.receive) or is written to
(chat.reach_out).

All work for one number runs under the lock of its PhoneClient row, so two
webhooks at once, or a webhook and an agent reaching out, cannot both start a
chat for it.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.phones import readable
from chat.models import PhoneClient

# Addresses of the users that stand for numbers: the .invalid domain can
# never receive mail (RFC 2606).
PHONE_USER_DOMAIN = "phone.switchboard.invalid"


def phone_client_lock(number: str, *, name: str | None, profile_name: str = "") -> PhoneClient:
    """The number's PhoneClient, locked until the transaction ends; created
    with its user when missing (role client, inactive, no usable password:
    it can never log in). ``name``: what its user is called (a contact's
    name, a WhatsApp profile name); None keeps the name it has, or the number
    for a new one. ``profile_name``: WhatsApp's name for the number."""
    phone = _locked(number)
    if phone is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email=f"{number.lstrip('+')}@{PHONE_USER_DOMAIN}",
                    password=None,
                    role=Role.CLIENT,
                    is_active=False,
                    full_name=(name or readable(number))[:150],
                )
                PhoneClient.objects.create(
                    number=number, user=user, profile_name=profile_name, created_at=timezone.now()
                )
        except IntegrityError:
            pass  # another request for this number created it first
        phone = _locked(number)
        assert phone is not None
    if name is not None and phone.user.full_name != name[:150]:
        User.objects.filter(pk=phone.user_id).update(full_name=name[:150])
        phone.user.full_name = name[:150]
    if profile_name and phone.profile_name != profile_name:
        PhoneClient.objects.filter(pk=phone.pk).update(profile_name=profile_name[:200])
    return phone


def _locked(number: str) -> PhoneClient | None:
    return (
        PhoneClient.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(number=number)
        .first()
    )
