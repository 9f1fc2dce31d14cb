# Read receipts (issue 5 item 3): when the other side first read a message.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        # 0005_templates (issue 5 item 1) comes first: one line of migrations.
        ('chat', '0005_templates'),
    ]

    operations = [
        migrations.AddField(
            model_name='message',
            name='read_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
