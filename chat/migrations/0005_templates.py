# Chat window tools (issue 5, item 1): agent invitations and greeting/farewell
# templates. Only these two models; others added to chat/models.py at the same
# time have their own migrations.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0004_blocks"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ChatInvitation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField()),
                ("accepted_at", models.DateTimeField(blank=True, null=True)),
                (
                    "invited_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "invitee",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="chat_invitations",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="invitations",
                        to="chat.chatsession",
                    ),
                ),
            ],
            options={
                "ordering": ["created_at", "id"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("accepted_at__isnull", True)),
                        fields=("session", "invitee"),
                        name="one_open_invitation_per_agent",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ChatTemplate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("greeting", "Greeting"), ("farewell", "Farewell")],
                        max_length=10,
                    ),
                ),
                ("title", models.CharField(max_length=100)),
                (
                    "body",
                    models.TextField(
                        help_text="Placeholders: {client_first_name}, {agent_name}.",
                        max_length=2000,
                    ),
                ),
                (
                    "ordering",
                    models.PositiveSmallIntegerField(
                        default=0, help_text="Lower numbers come first in the agent's menu."
                    ),
                ),
                (
                    "owner",
                    models.ForeignKey(
                        blank=True,
                        help_text="Leave empty for a template every agent sees.",
                        limit_choices_to={"role__in": ["agent", "supervisor", "administrator"]},
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="chat_templates",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["kind", "ordering", "title", "id"],
                "indexes": [
                    models.Index(fields=["owner", "kind"], name="chat_chatte_owner_i_b89475_idx")
                ],
            },
        ),
    ]
