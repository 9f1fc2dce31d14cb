# Files in a live chat (issue 5, item 2): the ChatAttachment model, the
# "file" message kind and a message's link to its file. Written by hand so it
# holds only these.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import chat.models


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0009_visitor_info"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="message",
            name="kind",
            field=models.CharField(
                choices=[("text", "Text"), ("system", "System"), ("file", "File")],
                default="text",
                max_length=10,
            ),
        ),
        migrations.CreateModel(
            name="ChatAttachment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "file",
                    models.FileField(
                        max_length=255,
                        storage=chat.models.chat_private_storage,
                        upload_to=chat.models.chat_attachment_path,
                    ),
                ),
                ("original_name", models.CharField(max_length=255)),
                (
                    "content_type",
                    models.CharField(default="application/octet-stream", max_length=100),
                ),
                ("size", models.PositiveBigIntegerField()),
                ("is_image", models.BooleanField(default=False)),
                ("created_at", models.DateTimeField()),
                (
                    "session",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="attachments",
                        to="chat.chatsession",
                    ),
                ),
                (
                    "uploaded_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["created_at", "id"],
            },
        ),
        migrations.AddField(
            model_name="message",
            name="attachment",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="message",
                to="chat.chatattachment",
            ),
        ),
    ]
