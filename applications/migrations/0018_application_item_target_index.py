from django.db import migrations, models

from applications.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction: online-safe while the previous version serves.
    atomic = False

    dependencies = [
        ("applications", "0017_remove_broker_ids"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="applicationitem",
            index=models.Index(
                condition=models.Q(("target__isnull", False)),
                fields=["target"],
                name="application_item_target",
            ),
        ),
    ]
