"""The NACCS side (SPEC §6): licence numbers registered per 通関士ID, every UTB attempt, login state and password
history of 利用者IDs. The 利用者IDs themselves are applications.NaccsUserId."""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from applications.models import NaccsUserId


class LicenceRegistration(models.Model):
    """One registration of a 通関士証票番号 for a 通関士ID. Registering again adds a row and moves `is_current` to it,
    so the history is kept and exactly one row per ID is current (a partial unique constraint)."""

    naccs_user_id = models.ForeignKey(
        NaccsUserId,
        verbose_name=_("通関士ID"),
        on_delete=models.PROTECT,
        related_name="licence_registrations",
    )
    licence_number = models.CharField(_("通関士証票番号"), max_length=5)
    registered_by = models.ForeignKey(
        NaccsUserId, verbose_name=_("入力者"), on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(_("登録日時"), db_default=Now())
    is_current = models.BooleanField(_("現在の番号"), default=True)

    class Meta:
        ordering = ["-registered_at", "-id"]
        verbose_name = _("通関士証票番号の登録")
        verbose_name_plural = _("通関士証票番号の登録")
        constraints = [
            models.UniqueConstraint(
                fields=["naccs_user_id"], condition=Q(is_current=True), name="licence_one_current_per_id"
            ),
            models.CheckConstraint(
                condition=Q(licence_number__regex=r"^[0-9]+(-[0-9]+)?$"), name="licence_number_shape"
            ),
        ]

    def __str__(self):
        return f"{self.naccs_user_id_id}: {self.licence_number}"


class UtbAttempt(models.Model):
    """Every UTB registration attempt, successful or not (SPEC §6): who, when, raw input, normalised value, result."""

    inputter = models.ForeignKey(
        NaccsUserId, verbose_name=_("入力者"), on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("経路"), max_length=10)  # "screen" or "api"
    target_user_id = models.CharField(_("入力された利用者ID"), max_length=100, blank=True)
    raw_licence_number = models.CharField(_("入力された通関士証票番号"), max_length=100, blank=True)
    normalised_licence_number = models.CharField(_("正規化後の通関士証票番号"), max_length=100, blank=True)
    result_code = models.CharField(_("処理結果コード"), max_length=5)
    attempted_at = models.DateTimeField(_("日時"), db_default=Now())

    class Meta:
        ordering = ["-attempted_at", "-id"]
        verbose_name = _("UTB業務の記録")
        verbose_name_plural = _("UTB業務の記録")
        indexes = [models.Index(fields=["inputter", "-attempted_at"], name="utb_attempt_inputter")]

    def __str__(self):
        return f"{self.target_user_id} {self.result_code}"


class NaccsLoginState(models.Model):
    """Failed logins of a 利用者ID from one client address, and the lock that follows them (SPEC §10).

    Keyed by the pair, so that guesses from one address never lock the ID for its owner elsewhere. `failed_logins`
    counts attempts as they are reserved, before their password is checked (services.naccs_id_authenticate), so
    concurrent guesses are counted too; a success resets it. Lock state is ephemeral: nothing else refers to it."""

    # No index of its own: the unique constraint's index starts with this column.
    naccs_user_id = models.ForeignKey(
        NaccsUserId,
        verbose_name=_("利用者ID"),
        on_delete=models.CASCADE,
        related_name="login_states",
        db_index=False,
    )
    # services.lockout_address(): IPv4 as it is, IPv6 by its /64, "" when the address is unknown.
    client_address = models.CharField(_("接続元アドレス"), max_length=64, blank=True, db_default="")
    failed_logins = models.PositiveSmallIntegerField(_("連続失敗回数"), default=0)
    locked_until = models.DateTimeField(_("ロック解除日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("利用者IDのログイン状態")
        verbose_name_plural = _("利用者IDのログイン状態")
        constraints = [
            models.UniqueConstraint(
                fields=["naccs_user_id", "client_address"], name="utb_login_state_one_per_id_and_address"
            ),
        ]

    def __str__(self):
        return f"{self.naccs_user_id_id} @ {self.client_address or '?'}: {self.failed_logins}"


class PasswordHistory(models.Model):
    """Hashes of a 利用者ID's earlier passwords, for the rule "none of the last three"."""

    naccs_user_id = models.ForeignKey(
        NaccsUserId, verbose_name=_("利用者ID"), on_delete=models.CASCADE, related_name="password_history"
    )
    password_hash = models.CharField(_("パスワード（ハッシュ）"), max_length=256)
    created_at = models.DateTimeField(_("設定日時"), db_default=Now())

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("パスワード履歴")
        verbose_name_plural = _("パスワード履歴")

    def __str__(self):
        return f"{self.naccs_user_id_id} @ {self.created_at}"
