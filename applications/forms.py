"""Forms of the filing screens: parsing and field messages. They call the pure rules; they save nothing."""

from django import forms
from django.utils.translation import gettext_lazy as _

from . import clock, rules
from .exceptions import DomainError, form_add_domain_error
from .models import ApplicationItem, Contract, ProcessingMethod
from .usernames import USERNAME_MAX_LENGTH, USERNAME_MESSAGE, USERNAME_PATTERN
from .validators import validate_single_line_text


class PhoneField(forms.CharField):
    """Normalised (full-width digits, hyphen look-alikes) before it is validated."""

    default_validators = [rules.PHONE_VALIDATOR]

    def to_python(self, value):
        return rules.normalise_phone(super().to_python(value))


class ApplicantForm(forms.Form):
    """申込担当者入力画面 (screen 4)."""

    name = forms.CharField(label=_("氏名"), max_length=100, validators=[validate_single_line_text])
    department = forms.CharField(
        label=_("部署"), max_length=100, required=False, validators=[validate_single_line_text]
    )
    phone = PhoneField(label=_("電話番号"), max_length=30)
    email = forms.EmailField(
        label=_("メールアドレス"),
        max_length=254,
        # Django's e-mail syntax admits control characters in a quoted local part ("\x07"@example.jp): a
        # message to such an address cannot even be built.
        validators=[validate_single_line_text],
        error_messages={"invalid": _("メールアドレスの形式が正しくありません（例：taro@example.co.jp）。")},
    )

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


BROKER_NAME_MAX_LENGTH = ApplicationItem._meta.get_field("broker_name").max_length


class AddIdsForm(forms.Form):
    """追加登録画面 (screen 5): the desired start date and one ID to add.

    `action` tells which button was pressed: "add" (設定する) needs every field; "proceed" (申込内容確認へ進む)
    needs the date only, and refuses an ID typed but not yet set, so that nothing typed is silently lost.
    """

    ADD = "add"
    PROCEED = "proceed"

    desired_start_date = forms.DateField(
        label=_("利用開始希望日"),
        widget=DateInput(),
        input_formats=["%Y-%m-%d", "%Y/%m/%d"],
        error_messages={"invalid": _("利用開始希望日は年-月-日（例：2026-12-01）の形で入力してください。")},
    )
    processing_method = forms.ModelChoiceField(
        label=_("処理方式"),
        queryset=ProcessingMethod.objects.none(),
        required=False,
        empty_label=_("選択してください"),
    )
    desired_identifier = forms.CharField(
        label=_("希望識別番号"),
        max_length=10,
        required=False,
        validators=[validate_single_line_text],
        help_text=_("英大文字・数字3文字（任意）。空欄の場合はNACCSセンターが払い出します。"),
    )
    broker_name = forms.CharField(
        label=_("通関士氏名"), max_length=60, required=False, validators=[validate_single_line_text]
    )

    def __init__(self, *args, contract: Contract, application, action: str = ADD, **kwargs):
        super().__init__(*args, **kwargs)
        self.contract = contract
        self.application = application
        self.action = action
        self.fields["processing_method"].queryset = contract.processing_methods.all()
        today = clock.today()
        date_widget = self.fields["desired_start_date"].widget
        date_widget.attrs.update(
            min=rules.earliest_start_date(today).isoformat(), max=rules.latest_start_date(today).isoformat()
        )
        self.fields["desired_identifier"].widget.attrs.update(autocomplete="off", size=5)

    def clean_desired_identifier(self):
        return rules.normalise_identifier(self.cleaned_data.get("desired_identifier", ""))

    def clean_broker_name(self):
        name = rules.normalise_broker_name(self.cleaned_data.get("broker_name", ""))
        # Width folding can lengthen a name (e.g. ㍻ → 平成): the limit applies to what is stored.
        if len(name) > BROKER_NAME_MAX_LENGTH:
            raise forms.ValidationError(
                _("通関士氏名は%(max)d文字以内で入力してください。") % {"max": BROKER_NAME_MAX_LENGTH}
            )
        return name

    def has_item_input(self) -> bool:
        data = self.cleaned_data
        return bool(
            data.get("processing_method") or data.get("desired_identifier") or data.get("broker_name")
        )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            rules.check_desired_start_date(cleaned.get("desired_start_date"), today=clock.today())
        except DomainError as error:
            form_add_domain_error(self, error)
        if self.action == self.PROCEED:
            if self.has_item_input():
                self.add_error(
                    None,
                    _(
                        "入力中の通関士IDがあります。「設定する」ボタンで申込情報に追加するか、入力を消してください。"
                    ),
                )
            return cleaned
        method = cleaned.get("processing_method")
        checks = (
            lambda: rules.check_processing_method(self.contract, method),
            lambda: rules.check_desired_identifier(
                self.contract, self.application, cleaned["desired_identifier"]
            ),
            lambda: rules.check_broker_name(self.application, method, cleaned["broker_name"]),
        )
        for check in checks:
            try:
                check()
            except DomainError as error:
                form_add_domain_error(self, error)
        return cleaned


class NewAccountFields(forms.Form):
    """The ユーザーID and name of an account the centre or an office creates (staff accounts, invitations)."""

    username = forms.RegexField(
        label=_("ユーザーID"),
        regex=USERNAME_PATTERN,
        max_length=USERNAME_MAX_LENGTH,
        error_messages={"invalid": USERNAME_MESSAGE},
    )
    full_name = forms.CharField(label=_("氏名"), max_length=100, validators=[validate_single_line_text])


class CustomerInviteForm(NewAccountFields):
    """お客様アカウントの招待: the person's ユーザーID, name and own e-mail address (the invitation goes there). Centre
    staff may also make the account the office's 管理者 (`with_admin`)."""

    email = forms.EmailField(
        label=_("メールアドレス"),
        max_length=254,
        validators=[validate_single_line_text],
        error_messages={"invalid": _("メールアドレスの形式が正しくありません（例：taro@example.co.jp）。")},
    )
    department = forms.CharField(
        label=_("部署"), max_length=100, required=False, validators=[validate_single_line_text]
    )
    phone = PhoneField(label=_("電話番号"), max_length=30, required=False)
    office_admin = forms.BooleanField(
        label=_("事業所の管理者にする（同じ事業所の方を招待できます）"), required=False
    )

    def __init__(self, *args, with_admin: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_admin:
            del self.fields["office_admin"]


class SelectIdsForm(forms.Form):
    """対象IDの選択 (`select-ids`: 通関士IDの削除, パスワードの初期化): the contract's selectable IDs as checkboxes
    and, for a removal, the 利用終了希望日. The rules (`kinds.check_targets`, the kind's date rule) are the
    service's."""

    targets = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, required=False)
    desired_end_date = forms.DateField(
        label=_("利用終了希望日"),
        widget=DateInput(),
        input_formats=["%Y-%m-%d", "%Y/%m/%d"],
        required=False,
        error_messages={"invalid": _("利用終了希望日は年-月-日（例：2026-12-01）の形で入力してください。")},
    )

    def __init__(self, *args, kind, selectable_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["targets"].label = kind.targets_label
        self.fields["targets"].choices = [
            (str(naccs_id.pk), naccs_id.naccs_user_id) for naccs_id in selectable_ids
        ]
        if kind.desired_date_field != "desired_end_date":
            del self.fields["desired_end_date"]
            return
        today = clock.today()
        self.fields["desired_end_date"].widget.attrs.update(
            min=rules.earliest_start_date(today).isoformat(), max=rules.latest_start_date(today).isoformat()
        )

    def clean_targets(self):
        return [int(value) for value in self.cleaned_data.get("targets", [])]
