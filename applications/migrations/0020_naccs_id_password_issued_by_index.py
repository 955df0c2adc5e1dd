from django.db import migrations, models

from applications.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction: online-safe while the previous version serves.
    atomic = False

    dependencies = [
        ("applications", "0019_reset_passwords"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="naccsuserid",
            index=models.Index(
                condition=models.Q(("password_issued_by__isnull", False)),
                fields=["password_issued_by"],
                name="naccs_id_password_issued_by",
            ),
        ),
    ]
