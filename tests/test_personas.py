"""tests/personas.py builds the people of seed_demo, not look-alikes."""

from __future__ import annotations

import pytest
from django.db import transaction

from accounts.models import User
from config.management.commands.seed_demo import CLIENTS, STAFF, seed
from tests import personas


def test_every_demo_person_is_a_persona() -> None:
    demo = {email for email, *_ in STAFF} | {email for email, *_ in CLIENTS}
    assert {persona.email for persona in personas.ALL} == demo
    assert len(personas.BY_KEY) == len(personas.ALL)


def _people() -> set[tuple[object, ...]]:
    return set(
        User.objects.filter(email__in=[p.email for p in personas.ALL]).values_list(
            "email",
            "full_name",
            "role",
            "is_staff",
            "is_superuser",
            "is_active",
            "contact__name",
            "contact__email",
            "contact__phone",
            "contact__company__name",
        )
    )


@pytest.mark.django_db
def test_personas_are_built_as_seed_demo_makes_them() -> None:
    with transaction.atomic():
        seed()
        seeded = _people()
        transaction.set_rollback(True)
    assert len(seeded) == len(personas.ALL)
    for persona in personas.ALL:
        persona.create()
    assert _people() == seeded
