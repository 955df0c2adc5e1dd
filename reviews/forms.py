"""Forms of the staff workplace: parsing and field messages only."""

import unicodedata

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.utils.translation import gettext_lazy as _
from django_otp import match_token

from applications.forms import NewAccountFields
from applications.models import ApplicationKind, ApplicationStatus, ProcessingMethod, User
from applications.roles import ROLE_LABELS
from applications.validators import validate_multiline_text, validate_single_line_text
from nss_portal.forms import (
    AuthenticatorCodeForm,
    OwnPasswordForm,
    PortalCredentialsFields,
    otp_token_field,
)

from .selectors import QUEUE_OPEN, SORT_SUBMITTED, assignable_staff


class StaffLoginForm(PortalCredentialsFields):
    """Staff login: ID, password and the 6-digit code of the authenticator app (TOTP)."""

    otp_token = otp_token_field(max_length=8)

    error_messages = {"invalid_login": _("ユーザーID、パスワードまたは確認コードが正しくありません。")}

    def __init__(self, request=None, *args, **kwargs):
        self.request = request
        self.user = None
        self.device = None
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        user = authenticate(self.request, username=cleaned["username"], password=cleaned["password"])
        token = unicodedata.normalize("NFKC", cleaned["otp_token"]).strip()
        device = match_token(user, token) if user is not None and user.is_staff and user.is_active else None
        if device is None:
            if user is not None:
                # The password was right but the code was not: it still counts towards the login lockout.
                user_login_failed.send(
                    sender=__name__, credentials={"username": cleaned["username"]}, request=self.request
                )
            # One message for every failure, so the form does not tell which part was wrong.
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")
        self.user, self.device = user, device
        return cleaned


class QueueFilterForm(forms.Form):
    """The queue's filters, sort and page: all of it in the URL, so a bookmark is a saved view (SPEC §8)."""

    STATUS_CHOICES = [
        (QUEUE_OPEN, _("未処理（受付・内容確認中）")),
        ("", _("すべて")),
        *[(value, label) for value, label in ApplicationStatus.choices if value != ApplicationStatus.DRAFT],
    ]
    SORT_CHOICES = [
        (SORT_SUBMITTED, _("申込日時の古い順")),
        ("-submitted", _("申込日時の新しい順")),
        ("start", _("利用開始希望日の近い順")),
        ("-start", _("利用開始希望日の遠い順")),
    ]

    status = forms.ChoiceField(label=_("状態"), choices=STATUS_CHOICES, required=False)
    method = forms.ModelChoiceField(
        label=_("処理方式"),
        queryset=ProcessingMethod.objects.all(),
        to_field_name="code",
        required=False,
        empty_label=_("すべて"),
    )
    kind = forms.ChoiceField(
        label=_("申込の種類"), choices=[("", _("すべて")), *ApplicationKind.choices], required=False
    )
    sort = forms.ChoiceField(label=_("並び順"), choices=SORT_CHOICES, required=False)
    overdue = forms.BooleanField(label=_("回答予定日超過のみ"), required=False)
    mine = forms.BooleanField(label=_("自分の担当のみ"), required=False)
    q = forms.CharField(
        label=_("検索（申込受付番号・利用者コード・会社名・事業所名）"),
        max_length=100,
        required=False,
        strip=True,
    )
    after = forms.CharField(required=False, widget=forms.HiddenInput)
    before = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *args, **kwargs):
        # No status in the URL means the default view (the open ones); "status=" (empty) means every status.
        if data is not None and "status" not in data:
            data = data.copy()
            data["status"] = QUEUE_OPEN
        super().__init__(data if data is not None else {"status": QUEUE_OPEN}, *args, **kwargs)

    def filters(self, *, actor) -> dict:
        """What the selectors take (reviews/selectors.py application_queue), from a valid form; the default view
        from an invalid one."""
        data = self.cleaned_data if self.is_valid() else {"status": QUEUE_OPEN}
        return {
            "status": data.get("status", QUEUE_OPEN),
            "method_code": data["method"].code if data.get("method") else "",
            "kind": data.get("kind", ""),
            "overdue": bool(data.get("overdue")),
            "mine": actor if data.get("mine") else None,
            "q": data.get("q", ""),
            "sort": data.get("sort") or SORT_SUBMITTED,
        }


class ApproveForm(forms.Form):
    """承認内容を確認する: the date approval fixes, to look at (nothing is changed by it), labelled as the kind
    names it (利用開始日, 利用終了日); a kind with no such date (パスワードの初期化) has no field."""

    start_date = forms.DateField(
        label=_("利用開始日"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%Y/%m/%d"],
        error_messages={"invalid": _("利用開始日は年-月-日（例：2026-12-01）の形で入力してください。")},
    )
    seen_status = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, kind, **kwargs):
        super().__init__(*args, **kwargs)
        if kind.confirmed_date_label is None:
            del self.fields["start_date"]
        elif not isinstance(self.fields["start_date"].widget, forms.HiddenInput):
            self.fields["start_date"].label = kind.confirmed_date_label


class ApproveCommitForm(ApproveForm):
    """承認する（IDを払い出す）: what was confirmed, carried by the confirmation screen."""

    start_date = forms.DateField(widget=forms.HiddenInput, input_formats=["%Y-%m-%d"])
    confirmation = forms.CharField(widget=forms.HiddenInput, max_length=64)


def _free_text(label, *, rows: int) -> forms.CharField:
    """Free text staff write: for the customer to read (a rejection reason, a progress notice) or for staff only
    (a memo, the reason of a correction) — the label says which."""
    return forms.CharField(
        label=label,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": rows}),
        validators=[validate_multiline_text],
    )


class RejectForm(forms.Form):
    reason = _free_text(_("不受理理由（お客様に表示されます）"), rows=3)
    seen_status = forms.CharField(widget=forms.HiddenInput)


class NoticeForm(forms.Form):
    text = _free_text(_("通知内容（お客様に表示されます）"), rows=2)


class InternalNoteForm(forms.Form):
    note = _free_text(_("メモ（スタッフだけに表示されます）"), rows=2)


class StartDateChangeForm(forms.Form):
    start_date = forms.DateField(
        label=_("変更後の利用開始日"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%Y/%m/%d"],
        error_messages={"invalid": _("利用開始日は年-月-日（例：2026-12-01）の形で入力してください。")},
    )
    reason = _free_text(_("変更の理由（監査ログに記録されます）"), rows=2)
    seen_start_date = forms.DateField(widget=forms.HiddenInput, input_formats=["%Y-%m-%d"])


class HolderForm(forms.Form):
    """The holder the page showed (0: nobody), so a change of holder meanwhile is refused, not overridden."""

    seen_reviewer = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**63 - 1)


class ReassignForm(HolderForm):
    reviewer = forms.ModelChoiceField(label=_("新しい担当者"), queryset=User.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = assignable_staff()
        self.fields["reviewer"].label_from_instance = lambda user: (
            f"{user.get_username()}（{user.full_name}）" if user.full_name else user.get_username()
        )


class ApplicationIdsField(forms.Field):
    """The ticked rows of the queue: ids, each checked by the service (which says per row what became of it)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("担当する申込を選択してください。"),
        "invalid": _("選択された申込が正しくありません。"),
    }

    def to_python(self, value):
        ids = []
        for raw in value or []:
            text = str(raw).strip()
            if not text.isascii() or not text.isdigit() or len(text) > 18:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            ids.append(int(text))
        return ids


class BulkTakeForm(forms.Form):
    applications = ApplicationIdsField()


ROLE_CHOICES = list(ROLE_LABELS.items())


class StaffAccountForm(NewAccountFields):
    email = forms.EmailField(
        label=_("メールアドレス"),
        max_length=254,
        validators=[validate_single_line_text],
        help_text=_("登録用のリンクをこのアドレスに送ります。他のスタッフと同じアドレスは使えません。"),
    )
    role = forms.ChoiceField(label=_("役割"), choices=ROLE_CHOICES)

    def clean_username(self):
        return self.cleaned_data["username"].lower()


class StaffAccountUpdateForm(forms.Form):
    role = forms.ChoiceField(label=_("役割"), choices=ROLE_CHOICES)
    is_active = forms.BooleanField(
        label=_("利用可（チェックを外すとログインできなくなります）"), required=False
    )


class StaffEnrolmentForm(OwnPasswordForm, AuthenticatorCodeForm):
    """The staff member's own password (twice, Django's validators) and one code of their new authenticator."""

    field_order = ["password1", "password2", "otp_token"]


class ContractForm(forms.Form):
    """契約: the office's names, department, address and processing methods; the 利用者コード only when registering
    (it is the start of every 利用者ID of the office and never changes)."""

    user_code = forms.CharField(
        label=_("利用者コード"),
        max_length=20,
        help_text=_("英大文字・数字5文字（例：1ANAC）。登録後は変更できません。"),
        validators=[validate_single_line_text],
    )
    company_name = forms.CharField(label=_("会社名"), max_length=100, validators=[validate_single_line_text])
    office_name = forms.CharField(label=_("事業所名"), max_length=100, validators=[validate_single_line_text])
    department = forms.CharField(
        label=_("部署"), max_length=100, required=False, validators=[validate_single_line_text]
    )
    address = forms.CharField(
        label=_("所在地"), max_length=200, required=False, validators=[validate_single_line_text]
    )
    processing_methods = forms.ModelMultipleChoiceField(
        label=_("処理方式"),
        queryset=ProcessingMethod.objects.order_by("sort_order"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("処理方式を1つ以上選んでください。")},
    )
    customer_totp_required = forms.BooleanField(
        label=_("お客様のログインに認証アプリ（確認コード）を必須にする"), required=False
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["user_code"]


class ContractSearchForm(forms.Form):
    q = forms.CharField(label=_("検索（利用者コード・会社名・事業所名）"), max_length=100, required=False)
    after = forms.CharField(required=False, widget=forms.HiddenInput)


class ContractImportForm(forms.Form):
    """契約の一括登録: the CSV of `manage.py import_contracts` (README, "Importing contracts")."""

    file = forms.FileField(
        label=_("CSVファイル"),
        help_text=_(
            "UTF-8（BOM付き・なし）またはShift_JIS（Excelの「CSV」）。書式はREADMEの「Importing contracts」のとおりです。"
        ),
    )
    dry_run = forms.BooleanField(
        label=_("確認のみ（取り込まずに、変更内容とエラーだけを表示する）"), required=False, initial=True
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.NSS_CONTRACT_IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("ファイルが大きすぎます（%(limit)d MB まで）。分けて取り込んでください。")
                % {"limit": settings.NSS_CONTRACT_IMPORT_MAX_BYTES // (1024 * 1024)},
                code="too_large",
            )
        return upload
