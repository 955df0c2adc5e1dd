import datetime

import django.db.models.functions.comparison
from django.db import migrations, models

from applications.migration_operations import AddIndexConcurrentlyOnPostgres, RemoveIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    # CREATE / DROP INDEX CONCURRENTLY cannot run inside a transaction: online-safe while the previous version
    # serves. The new indexes are built before the old ones go, so the queue's sort is indexed throughout (the
    # previous version's sort by desired_start_date alone is unindexed from the drop until it is rolled).
    atomic = False

    dependencies = [
        ("applications", "0020_naccs_id_password_issued_by_index"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="application",
            index=models.Index(
                django.db.models.functions.comparison.Coalesce(
                    "desired_start_date",
                    "desired_end_date",
                    models.Value(datetime.date(9999, 12, 31)),
                    output_field=models.DateField(),
                ),
                models.F("id"),
                condition=models.Q(("status__in", ["submitted", "under_review"])),
                name="application_open_by_desired",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="application",
            index=models.Index(
                django.db.models.functions.comparison.Coalesce(
                    "desired_start_date",
                    "desired_end_date",
                    models.Value(datetime.date(9999, 12, 31)),
                    output_field=models.DateField(),
                ),
                models.F("id"),
                name="application_by_desired",
            ),
        ),
        RemoveIndexConcurrentlyOnPostgres(model_name="application", name="application_open_by_start"),
        RemoveIndexConcurrentlyOnPostgres(model_name="application", name="application_by_start"),
    ]
