# Visitor info and page views of a chat (issue 5, item 4). Written by hand so
# it holds only these two models.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0008_chat_transfer"),
    ]

    operations = [
        migrations.CreateModel(
            name="VisitorInfo",
            fields=[
                (
                    "session",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="visitor_info",
                        serialize=False,
                        to="chat.chatsession",
                    ),
                ),
                ("user_agent", models.CharField(blank=True, max_length=500)),
                ("landing_page", models.CharField(blank=True, max_length=500)),
                ("landing_at", models.DateTimeField(blank=True, null=True)),
                ("first_visit_page", models.CharField(blank=True, max_length=500)),
                ("first_visit_at", models.DateTimeField(blank=True, null=True)),
                ("recorded_at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "visitor info",
                "verbose_name_plural": "visitor info",
            },
        ),
        migrations.CreateModel(
            name="PageView",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("path", models.CharField(max_length=500)),
                ("title", models.CharField(blank=True, max_length=200)),
                ("viewed_at", models.DateTimeField()),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="page_views",
                        to="chat.chatsession",
                    ),
                ),
            ],
            options={
                "ordering": ["viewed_at", "id"],
                "indexes": [
                    models.Index(
                        fields=["session", "viewed_at"], name="chat_pagevi_session_af567f_idx"
                    )
                ],
            },
        ),
    ]
