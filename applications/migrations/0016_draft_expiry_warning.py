from django.db import migrations, models


class Migration(migrations.Migration):
    # A nullable column: online-safe while the previous version serves.

    dependencies = [
        ("applications", "0015_processing_method_english_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="application",
            name="expiry_warned_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="削除予定の通知日時"),
        ),
    ]
