# WhatsApp's 24-hour window (issue 17, part B): when each number last wrote on
# WhatsApp, filled for the numbers that already did from their messages.

from django.db import migrations, models
from django.db.models import Max, OuterRef, Subquery


def fill_from_messages(apps, schema_editor):
    PhoneClient = apps.get_model("chat", "PhoneClient")
    Message = apps.get_model("chat", "Message")
    # What the number sent on WhatsApp: its user's messages that a provider
    # delivered (they carry the provider's id) in WhatsApp chats.
    last = (
        Message.objects.filter(
            author_id=OuterRef("user_id"),
            session__channel="whatsapp",
            provider_message_id__isnull=False,
        )
        .values("author_id")
        .annotate(last=Max("created_at"))
        .values("last")
    )
    PhoneClient.objects.update(whatsapp_received_at=Subquery(last))


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0015_phone_channels'),
    ]

    operations = [
        migrations.AddField(
            model_name='phoneclient',
            name='whatsapp_received_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(fill_from_messages, migrations.RunPython.noop),
    ]
