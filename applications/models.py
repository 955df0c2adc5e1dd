"""Contracts, the accounts of their offices, issued 利用者IDs and applications (SPEC §2).

Tables and constraints only; every change of state goes through applications/services.py.
"""

import datetime
import functools

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce, Lower, Now
from django.utils import translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from .roles import model_permissions


def start_date_reached(start_date, today) -> bool:
    """利用開始 (SPEC §4): from the start date on, `today` being the date in Japan (applications/clock.py) —
    derived, never stored. The one rule for an approved application and for the 利用者IDs it issued."""
    return start_date is not None and start_date <= today


def choice_label(choices: type[models.TextChoices], value: str) -> str:
    """The label of one member of `choices` in the active language: translated once per member and language
    (the catalogues do not change while the process runs), where get_FOO_display() builds and translates the
    whole list of choices on every call. A listing asks this for every row (README, "Performance")."""
    return _translated_choice(choices, value, translation.get_language() or settings.LANGUAGE_CODE)


@functools.cache
def _translated_choice(choices: type[models.TextChoices], value: str, language: str) -> str:
    with translation.override(language):
        return str(choices(value).label)


class ProcessingMethod(models.Model):
    """処理方式. A table, not a fixed choice, so that メール処理方式, ebMS… can be added as data."""

    code = models.SlugField(_("コード"), max_length=30, unique=True)
    name = models.CharField(_("処理方式"), max_length=60)
    # The name on English screens; the Japanese name where there is none. E-mails always use `name`.
    name_en = models.CharField(_("処理方式（英語）"), max_length=60, blank=True, default="", db_default="")
    sort_order = models.PositiveSmallIntegerField(_("表示順"), default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("処理方式")
        verbose_name_plural = _("処理方式")

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        """The name in the language of the screen being drawn."""
        return self.label_of(self.name, self.name_en)

    @staticmethod
    def label_of(name: str, name_en: str) -> str:
        """`label` from the two names (for a listing that reads them as values, not as instances)."""
        if name_en and (translation.get_language() or "").startswith("en"):
            return name_en
        return name


class Contract(models.Model):
    """契約: one NACCS contract of one office, identified by its 利用者コード."""

    user_code = models.CharField(_("利用者コード"), max_length=5, unique=True)
    company_name = models.CharField(_("会社名"), max_length=100)
    office_name = models.CharField(_("事業所名"), max_length=100)
    department = models.CharField(_("部署"), max_length=100, blank=True)
    address = models.CharField(_("所在地"), max_length=200, blank=True)
    processing_methods = models.ManyToManyField(
        ProcessingMethod, verbose_name=_("処理方式"), related_name="contracts"
    )
    # SPEC §11: the office's customers log in with a code of their authenticator app too.
    customer_totp_required = models.BooleanField(
        _("お客様のログインに認証アプリを必須にする"), default=False, db_default=False
    )
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    class Meta:
        ordering = ["user_code"]
        verbose_name = _("契約")
        verbose_name_plural = _("契約")
        permissions = model_permissions("contract")
        constraints = [
            models.CheckConstraint(
                condition=Q(user_code__regex=r"^[A-Z0-9]{5}$"), name="contract_user_code_shape"
            ),
        ]

    def __str__(self):
        return f"{self.user_code} {self.company_name} {self.office_name}"


class User(AbstractUser):
    """An account of the portal.

    A customer account belongs to exactly one contract (its office); a NACCS centre staff account belongs to none.
    The database refuses an account that is both (SPEC §4: staff are never customers).
    """

    contract = models.ForeignKey(
        Contract,
        verbose_name=_("契約"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    full_name = models.CharField(_("氏名"), max_length=100, blank=True)
    department = models.CharField(_("部署"), max_length=100, blank=True)
    phone = models.CharField(_("電話番号"), max_length=30, blank=True)
    # 管理者 of the office (SPEC §11): may invite colleagues of the same office and stop their accounts.
    is_office_admin = models.BooleanField(_("事業所の管理者"), default=False, db_default=False)
    # Raised to end every session of the account at once (stopped, credentials reset): it is part of the session
    # auth hash, so Django's auth middleware drops a session made before the change, and resuming the account
    # does not revive it (the hash never comes back).
    session_epoch = models.PositiveIntegerField(_("セッション世代"), default=0, db_default=0)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        permissions = model_permissions("user")
        constraints = [
            models.CheckConstraint(
                condition=Q(contract__isnull=True) | (Q(is_staff=False) & Q(is_superuser=False)),
                name="user_customer_is_not_staff",
            ),
            # A staff member's enrolment link goes to their own address: no two staff accounts share one, so an
            # approver cannot send a new account's link to their own mailbox. (Accounts made before addresses
            # were required, like the demo staff, have none.)
            models.UniqueConstraint(
                Lower("email"),
                condition=Q(is_staff=True) & ~Q(email=""),
                name="user_staff_email_unique",
            ),
        ]

    @property
    def is_customer(self) -> bool:
        return self.contract_id is not None and not self.is_staff

    def _session_hash(self, secret=None) -> str:
        if not self.session_epoch:
            # Epoch 0 keeps Django's own hash, so that deploying the field logs nobody out.
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "applications.User.get_session_auth_hash",
            f"{self.password}:{self.session_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def get_session_auth_hash(self) -> str:
        """Django's HMAC of the password hash, with the session epoch mixed in."""
        return self._session_hash()

    def get_session_auth_fallback_hash(self):
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=fallback_secret)


class NaccsUserId(models.Model):
    """利用者ID: 利用者コード + 識別番号, issued to a contract. A 通関士ID has `is_customs_broker` set."""

    # The fields that hold its credentials: read only where they are used (the UTB gateway's login and password
    # change, ID通知内容, approval), deferred by every read that only names or lists IDs.
    CREDENTIAL_FIELDS = ("password_hash", "initial_password_encrypted")

    contract = models.ForeignKey(
        Contract, verbose_name=_("契約"), on_delete=models.PROTECT, related_name="naccs_user_ids"
    )
    identifier = models.CharField(_("識別番号"), max_length=3)
    processing_method = models.ForeignKey(
        ProcessingMethod, verbose_name=_("処理方式"), on_delete=models.PROTECT
    )
    is_customs_broker = models.BooleanField(_("通関士ID"), default=False)
    start_date = models.DateField(_("利用開始日"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("廃止日時"), null=True, blank=True)
    issued_by = models.ForeignKey(
        "Application",
        verbose_name=_("払出し元の申込"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="issued_ids",
    )
    # The asked ID this one answers: one-to-one, so an application can never be issued two sets of IDs.
    item = models.OneToOneField(
        "ApplicationItem",
        verbose_name=_("申込ID"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="issued_id",
    )
    broker_name = models.CharField(_("通関士氏名"), max_length=60, blank=True)
    # Password for the UTB gateway: a one-way hash (applications/passwords.py) …
    password_hash = models.CharField(_("パスワード（ハッシュ）"), max_length=256, blank=True)
    # … and the initial password, Fernet-encrypted (applications/crypto.py), for the customer's ID notice.
    initial_password_encrypted = models.TextField(_("初期パスワード（暗号化）"), blank=True)
    password_changed_at = models.DateTimeField(_("パスワード変更日時"), null=True, blank=True)
    # The application whose ID通知内容 carries the current initial password — the addition that issued the ID, or
    # the latest パスワードの初期化 — and when it was made (the retention period counts from then). None for an ID
    # whose password the portal never made (imported with the contract).
    password_issued_by = models.ForeignKey(
        "Application",
        verbose_name=_("初期パスワードの発行元の申込"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # the partial index naccs_user_id_password_issued_by instead, built concurrently
    )
    password_issued_at = models.DateTimeField(_("初期パスワードの発行日時"), null=True, blank=True)
    created_at = models.DateTimeField(_("登録日時"), auto_now_add=True)

    class Meta:
        ordering = ["contract", "identifier"]
        verbose_name = _("利用者ID")
        verbose_name_plural = _("利用者ID")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "identifier"], name="naccs_user_id_unique_in_contract"
            ),
            models.CheckConstraint(
                condition=Q(identifier__regex=r"^[A-Z0-9]{3}$"), name="naccs_user_id_identifier_shape"
            ),
        ]
        indexes = [
            # Deleting a draft checks that no ID names it (PROTECT): the few IDs that name an application at all.
            models.Index(
                fields=["password_issued_by"],
                condition=Q(password_issued_by__isnull=False),
                name="naccs_id_password_issued_by",
            ),
        ]

    def __str__(self):
        return self.naccs_user_id

    @property
    def naccs_user_id(self) -> str:
        return f"{self.contract.user_code}{self.identifier}"

    def has_started(self, today) -> bool:
        """Its start date has come (`start_date_reached`); the UTB gateway refuses it before."""
        return start_date_reached(self.start_date, today)

    def is_revoked(self, today) -> bool:
        """廃止: from the day of `revoked_at` (00:00 Japan time, as the contract import and a removal's approval
        store it) on. An approved removal whose 利用終了日 has not come yet leaves the ID working."""
        from .clock import local_date

        return self.revoked_at is not None and local_date(self.revoked_at) <= today


class ApplicationKind(models.TextChoices):
    """利用申込の種類 (SPEC §9). What differs between them is data in applications/kinds.py."""

    ADD_CUSTOMS_BROKER_IDS = "add_customs_broker_ids", _("通関士IDの追加")
    REMOVE_BROKER_IDS = "remove_broker_ids", _("通関士IDの削除")
    RESET_PASSWORDS = "reset_passwords", _("パスワードの初期化")


class ApplicationStatus(models.TextChoices):
    """SPEC §4. Transitions between them are data in applications/workflow.py."""

    DRAFT = "draft", _("作成中")
    SUBMITTED = "submitted", _("受付")
    UNDER_REVIEW = "under_review", _("内容確認中")
    APPROVED = "approved", _("審査終了")
    REJECTED = "rejected", _("不受理")
    WITHDRAWN = "withdrawn", _("取下げ")


# 受付 and 内容確認中: the centre still owes an answer. The staff queue's default view, the overdue rule and the
# partial indexes application_open_queue, application_open_by_desired and application_open_counts all mean these.
OPEN_STATUSES = (ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW)
# 審査終了 and 不受理: the centre's decisions, each with its decided_at. The 業務状況 dashboard and the partial
# index application_decided mean these.
DECIDED_STATUSES = (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED)

# The date the customer asked for, whatever the kind: each kind's `desired_date_field` (applications/kinds.py) is
# one of these, and an application has at most one of them. One without any (a kind that asks for no date) reads
# as NO_DESIRED_DATE, after every real date, so that the value is never NULL: the queue's keyset sort by it
# (reviews/selectors.py) is then one total order on every database, and it is indexed as it is written here.
DESIRED_DATE_FIELDS = ("desired_start_date", "desired_end_date")
NO_DESIRED_DATE = datetime.date.max


def desired_date_expression() -> Coalesce:
    """The database expression of the date the customer asked for (DESIRED_DATE_FIELDS, else NO_DESIRED_DATE);
    the indexes application_open_by_desired and application_by_desired are on it."""
    return Coalesce(*DESIRED_DATE_FIELDS, Value(NO_DESIRED_DATE), output_field=models.DateField())


class Application(models.Model):
    """利用申込: one filing by an office. A draft (作成中) lives here too, so it survives logout."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("契約"), on_delete=models.PROTECT, related_name="applications"
    )
    kind = models.CharField(
        _("申込種別"),
        max_length=40,
        choices=ApplicationKind.choices,
        default=ApplicationKind.ADD_CUSTOMS_BROKER_IDS,
    )
    status = models.CharField(
        _("状態"), max_length=20, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT
    )
    reception_number = models.CharField(_("申込受付番号"), max_length=8, unique=True, null=True, blank=True)
    # 申込担当者 (applicant contact): receipt and confirmation e-mails go to applicant_email.
    applicant_name = models.CharField(_("氏名"), max_length=100, blank=True)
    applicant_department = models.CharField(_("部署"), max_length=100, blank=True)
    applicant_phone = models.CharField(_("電話番号"), max_length=30, blank=True)
    applicant_email = models.EmailField(_("メールアドレス"), blank=True)
    desired_start_date = models.DateField(_("利用開始希望日"), null=True, blank=True)
    start_date = models.DateField(_("利用開始日"), null=True, blank=True)
    # 通関士IDの削除 (SPEC §9): the day the customer wants the IDs to end, and the one approval fixes.
    desired_end_date = models.DateField(_("利用終了希望日"), null=True, blank=True)
    end_date = models.DateField(_("利用終了日"), null=True, blank=True)
    created_by = models.ForeignKey(
        "User", verbose_name=_("作成者"), on_delete=models.PROTECT, related_name="applications_created"
    )
    created_at = models.DateTimeField(_("作成日時"), db_default=Now())
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    submitted_at = models.DateTimeField(_("申込日時"), null=True, blank=True)
    # 回答予定日: the next business day after receipt (SPEC §4); overdue while still open after it.
    answer_due_on = models.DateField(_("回答予定日"), null=True, blank=True)
    reviewer = models.ForeignKey(
        "User",
        verbose_name=_("担当者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications_reviewing",
    )
    taken_at = models.DateTimeField(_("担当開始日時"), null=True, blank=True)
    decided_by = models.ForeignKey(
        "User",
        verbose_name=_("決定者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications_decided",
    )
    decided_at = models.DateTimeField(_("決定日時"), null=True, blank=True)
    rejection_reason = models.TextField(_("不受理理由"), blank=True)
    # A draft's creator was told when it will be deleted (applications/services.py `application_drafts_expire`).
    # Written with a queryset update, so that updated_at — the draft's last change — stays as it was.
    expiry_warned_at = models.DateTimeField(_("削除予定の通知日時"), null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("利用申込")
        verbose_name_plural = _("利用申込")
        permissions = model_permissions("application")
        constraints = [
            # One draft per account and kind: "通関士IDを追加する" resumes it instead of starting another.
            models.UniqueConstraint(
                fields=["created_by", "kind"],
                condition=Q(status="draft"),
                name="application_one_draft_per_user_and_kind",
            ),
            # A draft has no reception number; everything past it has one, and a submission time.
            models.CheckConstraint(
                condition=(
                    Q(status="draft") & Q(reception_number__isnull=True) & Q(submitted_at__isnull=True)
                )
                | (~Q(status="draft") & Q(reception_number__isnull=False) & Q(submitted_at__isnull=False)),
                name="application_reception_number_iff_submitted",
            ),
            models.CheckConstraint(
                condition=Q(reception_number__isnull=True) | Q(reception_number__regex=r"^[0-9]{7}[A-Z]$"),
                name="application_reception_number_shape",
            ),
        ]
        indexes = [
            models.Index(fields=["contract", "status", "-submitted_at"], name="application_contract_list"),
            # The staff queue: by status, oldest first, and the overdue filter.
            models.Index(fields=["status", "submitted_at", "id"], name="application_queue"),
            models.Index(fields=["submitted_at", "id"], name="application_queue_all"),
            # Open applications in queue order: the default view and the overdue filter scan only these.
            models.Index(
                fields=["submitted_at", "id"],
                condition=Q(status__in=[status.value for status in OPEN_STATUSES]),
                name="application_open_queue",
            ),
            # The queue sorted by 利用開始希望日 (SPEC §8), that is by the date the customer asked for whatever the
            # kind (desired_date_expression): open ones, and all of them.
            models.Index(
                desired_date_expression(),
                "id",
                condition=Q(status__in=[status.value for status in OPEN_STATUSES]),
                name="application_open_by_desired",
            ),
            models.Index(desired_date_expression(), "id", name="application_by_desired"),
            # The queue's counts (受付, 内容確認中, 回答予定日超過, 自分の担当): one index-only scan of the open ones.
            models.Index(
                fields=["status", "answer_due_on", "reviewer"],
                condition=Q(status__in=[status.value for status in OPEN_STATUSES]),
                name="application_open_counts",
            ),
            # 業務状況 (reviews/dashboard.py): the decisions by day with the time each took.
            models.Index(
                fields=["decided_at", "submitted_at"],
                condition=Q(status__in=[status.value for status in DECIDED_STATUSES]),
                name="application_decided",
            ),
        ]

    def __str__(self):
        return self.reception_number or f"draft #{self.pk}"

    @property
    def is_draft(self) -> bool:
        return self.status == ApplicationStatus.DRAFT

    @property
    def start_date_differs(self) -> bool:
        return bool(
            self.start_date and self.desired_start_date and self.start_date != self.desired_start_date
        )

    def is_overdue_on(self, today) -> bool:
        """Still open (受付 or 内容確認中) after its answer-due date."""
        return self.status in OPEN_STATUSES and self.answer_due_on is not None and self.answer_due_on < today

    @property
    def status_label(self) -> str:
        """The status as people read it: 利用開始 once an approved application's start date has come (SPEC §4:
        derived from the start date, never stored), otherwise the stored status."""
        from .clock import today

        if self.has_started(today()):
            return str(_("利用開始"))
        return choice_label(ApplicationStatus, self.status)

    @property
    def kind_label(self) -> str:
        """申込の種類 as people read it: get_kind_display()'s answer for a fraction of its cost (it builds the dict of
        every choice per call), so the one to use wherever rows are listed (the 50-row tables, the CSV)."""
        return choice_label(ApplicationKind, self.kind)

    def has_started(self, today) -> bool:
        """利用開始: derived, never stored — approved and the start date has come (`start_date_reached`)."""
        return self.status == ApplicationStatus.APPROVED and start_date_reached(self.start_date, today)


class ApplicationItem(models.Model):
    """申込情報の1行: one 利用者ID asked for in an application — to add (its processing method, desired 識別番号
    and broker name), or an existing one it removes or whose password it resets (`target`, with its processing
    method and name copied)."""

    application = models.ForeignKey(
        Application, verbose_name=_("利用申込"), on_delete=models.CASCADE, related_name="items"
    )
    processing_method = models.ForeignKey(
        ProcessingMethod, verbose_name=_("処理方式"), on_delete=models.PROTECT
    )
    desired_identifier = models.CharField(_("希望識別番号"), max_length=3, blank=True)
    broker_name = models.CharField(_("通関士氏名"), max_length=60)
    # 通関士IDの削除, パスワードの初期化: the existing ID this item names.
    target = models.ForeignKey(
        NaccsUserId,
        verbose_name=_("対象の利用者ID"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="removal_items",
        db_index=False,  # the partial index application_item_target instead, built concurrently
    )
    created_at = models.DateTimeField(_("作成日時"), db_default=Now())

    class Meta:
        ordering = ["id"]
        verbose_name = _("申込ID")
        verbose_name_plural = _("申込ID")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "desired_identifier"],
                condition=~Q(desired_identifier=""),
                name="application_item_identifier_once",
            ),
            models.UniqueConstraint(
                fields=["application", "processing_method", "broker_name"],
                name="application_item_broker_once_per_method",
            ),
            models.CheckConstraint(
                condition=Q(desired_identifier="") | Q(desired_identifier__regex=r"^[A-Z0-9]{3}$"),
                name="application_item_identifier_shape",
            ),
        ]
        indexes = [
            # Is this ID in an open removal already (applications/kinds.py): the few items that name one.
            models.Index(
                fields=["target"], condition=Q(target__isnull=False), name="application_item_target"
            ),
        ]

    def __str__(self):
        return f"{self.processing_method} {self.desired_identifier or '—'} {self.broker_name}"


class ProgressNotice(models.Model):
    """進行状況 / 通知内容: a dated notice the centre posts on an application; the customer reads it on 詳細."""

    application = models.ForeignKey(
        Application, verbose_name=_("利用申込"), on_delete=models.CASCADE, related_name="notices"
    )
    text = models.TextField(_("通知内容"), max_length=2000)
    posted_by = models.ForeignKey(
        "User", verbose_name=_("投稿者"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    is_automatic = models.BooleanField(_("自動通知"), default=False)
    posted_at = models.DateTimeField(_("通知日時"), db_default=Now())

    class Meta:
        ordering = ["-posted_at", "-id"]
        verbose_name = _("進行状況")
        verbose_name_plural = _("進行状況")
        indexes = [models.Index(fields=["application", "-posted_at"], name="notice_application_newest")]

    def __str__(self):
        return self.text[:40]


class InternalNote(models.Model):
    """メモ: staff-only text on an application (SPEC §8); never shown to the customer."""

    application = models.ForeignKey(
        Application, verbose_name=_("利用申込"), on_delete=models.CASCADE, related_name="internal_notes"
    )
    text = models.TextField(_("メモ"), max_length=2000)
    author = models.ForeignKey("User", verbose_name=_("記入者"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("記入日時"), db_default=Now())

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("メモ")
        verbose_name_plural = _("メモ")
        indexes = [models.Index(fields=["application", "created_at"], name="note_application_oldest")]

    def __str__(self):
        return self.text[:40]


class ReceptionNumberAllocation(models.Model):
    """Each row is one 申込受付番号 handed out; see applications/reception_numbers.py for why a table."""

    allocated_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("申込受付番号の払出し")

    def __str__(self):
        return f"#{self.pk}"


class EnrolmentPurpose(models.TextChoices):
    """What a single-use link lets its holder do."""

    STAFF_ENROLMENT = "staff_enrolment", _("スタッフアカウントの登録")
    PASSWORD_RESET = "password_reset", _("パスワードの再設定")
    CUSTOMER_INVITATION = "customer_invitation", _("お客様アカウントへの招待")


class EnrolmentToken(models.Model):
    """A single-use, expiring link sent to the account's own address (SPEC §10): the person sets their own
    credentials. Only the SHA-256 of the random token is stored; the link itself exists only in the e-mail.
    Issued, looked up and consumed by applications/enrolment.py."""

    user = models.ForeignKey(
        User, verbose_name=_("アカウント"), on_delete=models.CASCADE, related_name="enrolment_tokens"
    )
    purpose = models.CharField(_("用途"), max_length=30, choices=EnrolmentPurpose.choices)
    token_hash = models.CharField(_("トークン（SHA-256）"), max_length=64, unique=True)
    created_by = models.ForeignKey(
        User,
        verbose_name=_("発行者"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("発行日時"), db_default=Now())
    expires_at = models.DateTimeField(_("有効期限"))
    used_at = models.DateTimeField(_("使用日時"), null=True, blank=True)
    # Set when a newer link for the same account, or stopping the account, made this one void.
    voided_at = models.DateTimeField(_("無効化日時"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("登録用リンク")
        verbose_name_plural = _("登録用リンク")
        constraints = [
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | Q(voided_at__isnull=True),
                name="enrolment_token_used_or_voided",
            ),
            models.CheckConstraint(
                condition=Q(token_hash__regex=r"^[0-9a-f]{64}$"),  # noqa: S106 - a hash's shape, not a password
                name="enrolment_token_hash_shape",
            ),
        ]
        indexes = [
            models.Index(
                fields=["user", "expires_at"],
                condition=Q(used_at__isnull=True, voided_at__isnull=True),
                name="enrolment_token_open",
            ),
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} {self.user_id} ({self.created_at:%Y-%m-%d %H:%M})"
