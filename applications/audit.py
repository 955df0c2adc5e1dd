"""The audit trail (SPEC §4): who did what, when, from which state to which. Stored in django-auditlog's LogEntry
so that every trail is in one table with one viewer; services call `record` for each business action."""

from auditlog.models import LogEntry
from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from .models import User

# What staff read in the audit trail for each recorded action.
ACTION_LABELS = {
    "application_submit": _("申込（受付）"),
    "application_take": _("担当"),
    "application_approve": _("承認・ID払出し"),
    "application_reject": _("不受理"),
    "application_withdraw": _("取下げ"),
    "progress_notice_post": _("進行状況の通知"),
    "id_notice_view": _("ID通知内容の閲覧"),
    "email_resend": _("メール再送"),
    "staff_account_create": _("スタッフアカウント作成"),
    "staff_account_update": _("スタッフアカウント変更"),
    "staff_credentials_reset": _("登録用リンクの再発行（パスワード・認証アプリの無効化）"),
    "staff_enrolment_complete": _("スタッフ本人による登録（パスワード・認証アプリ）"),
    "contract_create": _("契約の登録"),
    "contract_update": _("契約の変更"),
    "customer_password_reset_request": _("パスワード再設定リンクの送信"),
    "customer_password_reset": _("お客様本人によるパスワード再設定"),
    "customer_invite": _("お客様アカウントの招待"),
    "customer_invitation_resend": _("招待リンクの再送"),
    "customer_invitation_accept": _("招待されたお客様によるパスワード設定"),
    "customer_account_stop": _("お客様アカウントの停止"),
}


def action_label(entry: LogEntry) -> str:
    action = (entry.additional_data or {}).get("action", "")
    return str(ACTION_LABELS.get(action, action))


def record(
    instance: Model, *, actor: User | None, action: str, changes: dict | None = None, **details
) -> LogEntry:
    """One entry: `action` is the service's name (application_approve…), `changes` {field: [old, new]}."""
    return LogEntry.objects.log_create(
        instance,
        force_log=True,
        action=LogEntry.Action.UPDATE,
        changes={key: [_plain(old), _plain(new)] for key, (old, new) in (changes or {}).items()},
        actor=actor,
        actor_email=getattr(actor, "email", None) or None,
        additional_data={"action": action, **{key: _plain(value) for key, value in details.items()}},
        serialized_data=None,
    )


def record_access(instance: Model, *, actor: User, action: str, **details) -> LogEntry:
    """A read that must be traceable (the ID notice carries initial passwords)."""
    return LogEntry.objects.log_create(
        instance,
        force_log=True,
        action=LogEntry.Action.ACCESS,
        actor=actor,
        actor_email=getattr(actor, "email", None) or None,
        additional_data={"action": action, **{key: _plain(value) for key, value in details.items()}},
        serialized_data=None,
    )


def _plain(value):
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str | dict):
        return value
    return str(value)
