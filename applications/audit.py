"""The audit trail (SPEC §4): who did what, when, from which state to which. Stored in django-auditlog's LogEntry
so that every trail is in one table with one viewer; services call `record` for each business action.

Staff read it as sentences of their language, never as field names (SPEC §8): `entry_lines` turns an entry's
changes and details into labelled lines (状態: 受付 → 内容確認中, 利用開始日: （未確定） → 2026年12月9日)."""

import datetime
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from auditlog.cid import get_cid
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.utils.encoding import smart_str
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .dates import format_date, format_datetime
from .models import ApplicationStatus, ProcessingMethod, User
from .roles import ROLE_LABELS

# What staff read in the audit trail for each recorded action.
ACTION_LABELS = {
    "application_submit": _("申込（受付）"),
    "application_take": _("担当"),
    "application_approve": _("承認・ID払出し"),
    "application_approve_removal": _("承認・ID削除"),
    "application_approve_reset": _("承認・パスワード初期化"),
    "application_reject": _("不受理"),
    "application_withdraw": _("取下げ"),
    "progress_notice_post": _("進行状況の通知"),
    "id_notice_view": _("ID通知内容の閲覧"),
    "id_notice_pdf_download": _("ID通知内容のPDF出力"),
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
    "application_release": _("担当を外す"),
    "application_reassign": _("担当者の変更"),
    "application_start_date_change": _("利用開始日の変更"),
    "internal_note_add": _("メモの追加"),
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


# --- How staff read an entry (SPEC §8: 状態: 受付 → 内容確認中, never field names) ------------------------------


@dataclass(frozen=True)
class AuditLine:
    """One line of an entry: `label: old → new` for a change (is_change), `label: value` for a detail."""

    label: str
    value: str = ""
    old: str = ""
    new: str = ""
    is_change: bool = False


# What each key the services record is called, as a field of `changes` or a detail of additional_data, in the order
# an entry's lines are shown. A key missing here is shown under its own name: no entry is ever hidden or refused.
FIELD_LABELS = {
    "status": _("状態"),
    "reviewer": _("担当者"),
    "desired_start_date": _("利用開始希望日"),
    "start_date": _("利用開始日"),
    "issued": _("払出し"),
    "desired_end_date": _("利用終了希望日"),
    "end_date": _("利用終了日"),
    "removed": _("削除する通関士ID"),
    "reset": _("パスワードを初期化した利用者ID"),
    "reason": _("理由"),
    "text": _("通知"),
    "note": _("メモ"),
    "email": _("メールアドレス"),
    "to": _("宛先"),
    "queued": _("再送メールの番号"),
    "contract": _("契約"),
    "user_code": _("利用者コード"),
    "company_name": _("会社名"),
    "office_name": _("事業所名"),
    "username": _("ユーザーID"),
    "full_name": _("氏名"),
    "department": _("部署"),
    "address": _("所在地"),
    "phone": _("電話番号"),
    "role": _("役割"),
    "is_active": _("利用可否"),
    "office_admin": _("事業所の管理者"),
    "enrolment_link_expires_at": _("登録用リンクの有効期限"),
    "processing_methods": _("処理方式"),
    "customer_totp_required": _("お客様のログインに認証アプリを必須にする"),
    "naccs_user_ids_created": _("追加した利用者ID"),
    "naccs_user_ids_updated": _("変更した利用者ID"),
    "processing_method": _("処理方式"),
    "is_customs_broker": _("通関士ID"),
    "broker_name": _("通関士氏名"),
    "revoked_on": _("廃止日"),
    "accounts_created": _("追加したアカウント"),
    "accounts_updated": _("変更したアカウント"),
}
# A key whose meaning depends on the action: the resend records the e-mail's kind under `email`.
ACTION_FIELD_LABELS = {("email_resend", "email"): _("メール")}
_ORDER = {key: index for index, key in enumerate(FIELD_LABELS)}

NONE = "—"
PENDING = _("（未確定）")
YES, NO = _("はい"), _("いいえ")
ACTIVE, STOPPED = _("利用可"), _("停止中")
CONTRACT_EVENTS = {"created": _("新規登録"), "updated": _("登録内容の変更")}
EMAIL_KINDS = {
    "application_received": _("利用申込受付完了のお知らせ"),
    "application_approved": _("利用申込確認完了のお知らせ"),
    "application_rejected": _("不受理のお知らせ"),
    "staff_enrolment": _("スタッフアカウントの登録のお願い"),
    "customer_password_reset": _("パスワード再設定のご案内"),
    "customer_invitation": _("アカウントへのご招待"),
    "application_start_date_changed": _("利用開始日変更のお知らせ"),
    "application_withdrawn": _("申込取下げのお知らせ"),
    "draft_expiry_warning": _("作成中の申込（下書き）の削除予定のお知らせ"),
}
# Recorded as ProcessingMethod codes (one or a list); shown by their names.
METHOD_KEYS = frozenset({"processing_method", "processing_methods"})


def _text(value) -> str:
    """Any recorded value: — for nothing, はい/いいえ for a flag, a list joined with 、."""
    if value is None or value == "" or (isinstance(value, list | tuple | dict) and not value):
        return NONE
    if isinstance(value, bool):
        return str(YES if value else NO)
    if isinstance(value, list | tuple):
        return "、".join(_text(item) for item in value)
    if isinstance(value, dict):
        return "、".join(f"{key}: {_text(item)}" for key, item in value.items())
    return str(value)


def _labelled(labels: dict, value) -> str:
    """A recorded code by its label (a status, a role…); a code no longer known as itself."""
    if isinstance(value, str) and value in labels:
        return str(labels[value])
    return _text(value)


def _parsed(value, parse):
    if not isinstance(value, str):
        return None
    try:
        return parse(value)
    except ValueError:
        return None


def _date_text(value) -> str:
    """A day (recorded as ISO text) as 2026年12月9日; （未確定） while there is none."""
    if value is None or value == "":
        return str(PENDING)
    day = _parsed(value, datetime.date.fromisoformat) or _parsed(value, datetime.datetime.fromisoformat)
    return format_date(day) if day else _text(value)


def _datetime_text(value) -> str:
    moment = _parsed(value, datetime.datetime.fromisoformat)
    return format_datetime(moment) if moment else _text(value)


def _active_text(value) -> str:
    return str(ACTIVE if value else STOPPED) if isinstance(value, bool) else _text(value)


def _methods_text(value, names: dict[str, str]) -> str:
    if isinstance(value, list | tuple):
        return _text([_methods_text(item, names) for item in value])
    return _labelled(names, value)


VALUE_FORMATS: dict[str, Callable[[object], str]] = {
    "status": lambda value: _labelled(dict(ApplicationStatus.choices), value),
    "desired_start_date": _date_text,
    "start_date": _date_text,
    "desired_end_date": _date_text,
    "end_date": _date_text,
    "revoked_on": _date_text,
    "enrolment_link_expires_at": _datetime_text,
    "role": lambda value: _labelled(ROLE_LABELS, value),
    "is_active": _active_text,
    "contract": lambda value: _labelled(CONTRACT_EVENTS, value),
}
ACTION_VALUE_FORMATS = {("email_resend", "email"): lambda value: _labelled(EMAIL_KINDS, value)}


def _mapping(value) -> dict:
    """A JSON object as recorded; {} for anything else (an entry written by other means must still show)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return dict(value) if isinstance(value, dict) else {}


def _is_pair(value) -> bool:
    return isinstance(value, list | tuple) and len(value) == 2


def _is_nested(value) -> bool:
    """{subject: {field: [old, new]}}: the contract import's changes of each 利用者ID and account."""
    return isinstance(value, dict) and bool(value) and all(isinstance(item, dict) for item in value.values())


def _strings(value) -> list[str]:
    if isinstance(value, list | tuple):
        return [text for item in value for text in _strings(item)]
    return [value] if isinstance(value, str) and value else []


def _method_codes(*mappings: dict) -> set[str]:
    """Every processing-method code the mappings (and the mappings within them) record."""
    codes: set[str] = set()
    pending = list(mappings)
    while pending:
        for key, value in pending.pop().items():
            if key in METHOD_KEYS:
                codes.update(_strings(value))
            elif isinstance(value, dict):
                pending.append(value)
    return codes


def processing_method_names(codes: Iterable[str]) -> dict[str, str]:
    """{code: name} of the processing methods; one query, none for no codes."""
    codes = set(codes)
    if not codes:
        return {}
    return dict(ProcessingMethod.objects.filter(code__in=codes).values_list("code", "name"))


def _legacy(action: str, changes: dict, details: dict) -> tuple[dict, dict]:
    """Approvals recorded before the desired start date had a detail of its own put it in the place of the old
    start date (there was none: an application has a start date from its approval on)."""
    if (
        action == "application_approve"
        and "desired_start_date" not in details
        and _is_pair(changes.get("start_date"))
    ):
        desired, confirmed = changes["start_date"]
        return {**changes, "start_date": [None, confirmed]}, {**details, "desired_start_date": desired}
    return changes, details


class _Lines:
    """The lines of one entry: labels and value formats for its action, processing methods by their names."""

    def __init__(self, action: str, method_names: dict[str, str]):
        self.action = action
        self.method_names = method_names

    def label(self, key: str, subject: str = "") -> str:
        label = ACTION_FIELD_LABELS.get((self.action, key)) or FIELD_LABELS.get(key) or key
        if subject:
            return gettext("%(label)s（%(subject)s）") % {"label": label, "subject": subject}
        return label

    def value(self, key: str, value) -> str:
        if key in METHOD_KEYS:
            return _methods_text(value, self.method_names)
        format_value = ACTION_VALUE_FORMATS.get((self.action, key)) or VALUE_FORMATS.get(key) or _text
        return format_value(value)

    def of(self, mapping: dict, *, pairs_are_changes: bool, subject: str = "") -> list[tuple[str, AuditLine]]:
        lines = []
        for key, value in mapping.items():
            key = str(key)
            if pairs_are_changes and _is_pair(value):
                old, new = value
                line = AuditLine(
                    self.label(key, subject),
                    old=self.value(key, old),
                    new=self.value(key, new),
                    is_change=True,
                )
                lines.append((key, line))
            elif not subject and _is_nested(value):
                lines.extend(
                    (key, line)
                    for nested_subject, changes in value.items()
                    for _key, line in self.of(changes, pairs_are_changes=True, subject=str(nested_subject))
                )
            else:
                lines.append((key, AuditLine(self.label(key, subject), value=self.value(key, value))))
        return lines


def entry_lines(entry: LogEntry, *, method_names: dict[str, str] | None = None) -> list[AuditLine]:
    """What an entry changed and its details as labelled lines in the active language, in FIELD_LABELS order:
    状態: 受付 → 内容確認中, 利用開始日: （未確定） → 2026年12月9日, 払出し: 1ANACA01、1ANACA02. The recorded action
    itself is the entry's heading (action_label), not a line. `method_names` (processing_method_names) saves the
    query when the caller reads them for many entries at once (trail_lines)."""
    changes, details = _mapping(entry.changes), _mapping(entry.additional_data)
    action = details.pop("action", "")
    action = action if isinstance(action, str) else ""
    changes, details = _legacy(action, changes, details)
    if method_names is None:
        method_names = processing_method_names(_method_codes(changes, details))
    lines = _Lines(action, method_names)
    keyed = lines.of(changes, pairs_are_changes=True) + lines.of(details, pairs_are_changes=False)
    keyed.sort(key=lambda item: _ORDER.get(item[0], len(_ORDER)))  # stable: unknown keys keep their order
    return [line for _key, line in keyed]


def trail_lines(entries: Iterable[LogEntry]) -> list[list[AuditLine]]:
    """entry_lines of each entry, with the processing methods of all of them read in one query (at most)."""
    entries = list(entries)
    codes = set()
    for entry in entries:
        codes |= _method_codes(_mapping(entry.changes), _mapping(entry.additional_data))
    names = processing_method_names(codes)
    return [entry_lines(entry, method_names=names) for entry in entries]
