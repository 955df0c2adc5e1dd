from django.db import migrations, models

from applications.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction: online-safe while the previous version serves.
    atomic = False

    dependencies = [
        ("applications", "0013_staff_workplace"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="application",
            index=models.Index(
                condition=models.Q(("status__in", ["approved", "rejected"])),
                fields=["decided_at", "submitted_at"],
                name="application_decided",
            ),
        ),
    ]
