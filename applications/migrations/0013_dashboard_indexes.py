from django.db import migrations, models

from applications.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction: online-safe while the previous version serves.
    atomic = False

    dependencies = [
        ("applications", "0012_contract_customer_totp"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="application",
            index=models.Index(
                condition=models.Q(("status__in", ["submitted", "under_review"])),
                fields=["status", "answer_due_on"],
                name="application_open_status_due",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="application",
            index=models.Index(
                condition=models.Q(("status__in", ["approved", "rejected"])),
                fields=["decided_at", "submitted_at"],
                name="application_decided",
            ),
        ),
    ]
