import django.db.models.deletion
from django.db import migrations, models


def password_issuers_backfill(apps, schema_editor):
    """Every ID whose password the portal made was made by the addition that issued it, when it was created."""
    NaccsUserId = apps.get_model("applications", "NaccsUserId")
    NaccsUserId.objects.filter(issued_by__isnull=False, password_issued_by__isnull=True).exclude(
        password_hash=""
    ).update(password_issued_by=models.F("issued_by"), password_issued_at=models.F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0018_application_item_target_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="naccsuserid",
            name="password_issued_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="初期パスワードの発行日時"),
        ),
        migrations.AddField(
            model_name="naccsuserid",
            name="password_issued_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="applications.application",
                verbose_name="初期パスワードの発行元の申込",
            ),
        ),
        migrations.AlterField(
            model_name="application",
            name="kind",
            field=models.CharField(
                choices=[
                    ("add_customs_broker_ids", "通関士IDの追加"),
                    ("remove_broker_ids", "通関士IDの削除"),
                    ("reset_passwords", "パスワードの初期化"),
                ],
                default="add_customs_broker_ids",
                max_length=40,
                verbose_name="申込種別",
            ),
        ),
        migrations.AlterField(
            model_name="applicationitem",
            name="target",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="removal_items",
                to="applications.naccsuserid",
                verbose_name="対象の利用者ID",
            ),
        ),
        migrations.RunPython(password_issuers_backfill, migrations.RunPython.noop),
    ]
