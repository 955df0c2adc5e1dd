"""SPEC §10: staff set their own credentials through a single-use enrolment link; stopping or resetting an account
ends its sessions.

- `EnrolmentToken`: a new table (only the SHA-256 of each link's token is stored).
- `User.session_epoch`: a new column with a database default (0), safe while the previous version serves; epoch 0
  keeps Django's own session hash, so nobody is logged out by the deploy.
- `user_staff_email_unique`: staff e-mail addresses unique, case-insensitively, among staff accounts that have one.
  It fails, rather than changes anything, if two staff accounts already share an address: fix those first.
"""

import django.db.models.deletion
import django.db.models.functions.datetime
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0007_approver_manages_staff"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="session_epoch",
            field=models.PositiveIntegerField(db_default=0, default=0, verbose_name="セッション世代"),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("email"),
                condition=models.Q(("is_staff", True), models.Q(("email", ""), _negated=True)),
                name="user_staff_email_unique",
            ),
        ),
        migrations.CreateModel(
            name="EnrolmentToken",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "purpose",
                    models.CharField(
                        choices=[("staff_enrolment", "スタッフアカウントの登録")],
                        max_length=30,
                        verbose_name="用途",
                    ),
                ),
                (
                    "token_hash",
                    models.CharField(max_length=64, unique=True, verbose_name="トークン（SHA-256）"),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(), verbose_name="発行日時"
                    ),
                ),
                ("expires_at", models.DateTimeField(verbose_name="有効期限")),
                ("used_at", models.DateTimeField(blank=True, null=True, verbose_name="使用日時")),
                ("voided_at", models.DateTimeField(blank=True, null=True, verbose_name="無効化日時")),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="発行者",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="enrolment_tokens",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="アカウント",
                    ),
                ),
            ],
            options={
                "verbose_name": "登録用リンク",
                "verbose_name_plural": "登録用リンク",
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("used_at__isnull", True), ("voided_at__isnull", True)),
                        fields=["user", "expires_at"],
                        name="enrolment_token_open",
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("used_at__isnull", True), ("voided_at__isnull", True), _connector="OR"
                        ),
                        name="enrolment_token_used_or_voided",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("token_hash__regex", "^[0-9a-f]{64}$")),
                        name="enrolment_token_hash_shape",
                    ),
                ],
            },
        ),
    ]
