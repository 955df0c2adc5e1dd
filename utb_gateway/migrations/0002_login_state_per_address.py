"""Lock state per (利用者ID, client address) instead of per 利用者ID (SPEC §10), so that nobody can lock an ID out
from everywhere.

The existing rows are dropped, not migrated: lock state is ephemeral (a count of recent failures and a lock of at
most NSS_UTB_LOCKOUT_MINUTES), and an old row has no address it could be carried over to. Dropping it at worst
gives a guesser who was locked a fresh count — the same as the lock running out. Going back drops the rows again,
since a per-address table can hold several rows for one ID, which the old one-to-one column cannot.

While the old version still serves (a rolling deploy) it keeps working: `client_address` has a database default,
so its inserts succeed. Its failed-login path would raise once an ID has rows for two addresses, so do not run
both versions side by side for long.
"""

import django.db.models.deletion
from django.db import migrations, models


def drop_lock_state(apps, schema_editor):
    apps.get_model("utb_gateway", "NaccsLoginState").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("utb_gateway", "0001_initial"),
    ]

    operations = [
        # Forward: the per-ID rows go first. Backward (operations run in reverse): the per-address rows go
        # (the last operation here) before the column becomes one-to-one again.
        migrations.RunPython(drop_lock_state, migrations.RunPython.noop, elidable=True),
        migrations.AddField(
            model_name="naccsloginstate",
            name="client_address",
            field=models.CharField(blank=True, db_default="", max_length=64, verbose_name="接続元アドレス"),
        ),
        migrations.AlterField(
            model_name="naccsloginstate",
            name="naccs_user_id",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="login_states",
                to="applications.naccsuserid",
                verbose_name="利用者ID",
            ),
        ),
        migrations.AddConstraint(
            model_name="naccsloginstate",
            constraint=models.UniqueConstraint(
                fields=("naccs_user_id", "client_address"), name="utb_login_state_one_per_id_and_address"
            ),
        ),
        migrations.RunPython(migrations.RunPython.noop, drop_lock_state, elidable=True),
    ]
