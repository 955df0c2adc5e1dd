import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    # 通関士IDの削除 (SPEC §9). Nullable columns and a foreign key without its index (0018 builds it
    # concurrently): online-safe while the previous version serves.

    dependencies = [
        ("applications", "0016_draft_expiry_warning"),
    ]

    operations = [
        migrations.AddField(
            model_name="application",
            name="desired_end_date",
            field=models.DateField(blank=True, null=True, verbose_name="利用終了希望日"),
        ),
        migrations.AddField(
            model_name="application",
            name="end_date",
            field=models.DateField(blank=True, null=True, verbose_name="利用終了日"),
        ),
        migrations.AddField(
            model_name="applicationitem",
            name="target",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="removal_items",
                to="applications.naccsuserid",
                verbose_name="削除する利用者ID",
            ),
        ),
        migrations.AlterField(
            model_name="application",
            name="kind",
            field=models.CharField(
                choices=[("add_customs_broker_ids", "通関士IDの追加"), ("remove_broker_ids", "通関士IDの削除")],
                default="add_customs_broker_ids",
                max_length=40,
                verbose_name="申込種別",
            ),
        ),
    ]
