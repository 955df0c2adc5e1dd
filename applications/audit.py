"""The audit trail (SPEC §4): who did what, when, from which state to which. Stored in django-auditlog's LogEntry
so that every trail is in one table with one viewer; services call `record` for each business action."""

from collections.abc import Iterable

from auditlog.cid import get_cid
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.utils.encoding import smart_str
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
    "contract_import": _("契約の取込み"),
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
        **_entry_fields(actor=actor, action=action, changes=changes, details=details),
    )


def record_many(
    entries: Iterable[tuple[Model, dict | None, dict]],
    *,
    actor: User | None,
    action: str,
    batch_size: int = 500,
) -> list[LogEntry]:
    """The entries `record` would write, one per (instance, changes, details), inserted in batches: for a service
    that changes thousands of objects at once (the contract import) and must not write one row per query."""
    correlation_id = get_cid()
    rows = [
        LogEntry(
            content_type=ContentType.objects.get_for_model(instance),  # cached after the first
            object_pk=str(instance.pk),
            object_id=instance.pk if isinstance(instance.pk, int) else None,
            object_repr=smart_str(instance),
            cid=correlation_id,
            **_entry_fields(actor=actor, action=action, changes=changes, details=details),
        )
        for instance, changes, details in entries
    ]
    return LogEntry.objects.bulk_create(rows, batch_size=batch_size)


def _entry_fields(*, actor: User | None, action: str, changes: dict | None, details: dict) -> dict:
    return {
        "action": LogEntry.Action.UPDATE,
        "changes": {key: [_plain(old), _plain(new)] for key, (old, new) in (changes or {}).items()},
        "actor": actor,
        "actor_email": getattr(actor, "email", None) or None,
        "additional_data": {"action": action, **{key: _plain(value) for key, value in details.items()}},
        "serialized_data": None,
    }


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
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
