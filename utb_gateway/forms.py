from django import forms
from django.utils.translation import gettext_lazy as _

from applications.validators import validate_single_line_text


class UtbLoginForm(forms.Form):
    user_id = forms.CharField(
        label=_("利用者ID"),
        max_length=20,
        validators=[validate_single_line_text],
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("パスワード"),
        max_length=64,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class UtbRegistrationForm(forms.Form):
    """UTB: the fields are free text on purpose — every outcome, even an empty field, is a NACCS result code.
    Only text no screen could show (control characters, lone surrogates, characters that render as nothing) is
    refused at the field, by the project's one text check (SPEC §10), before any business runs."""

    user_id = forms.CharField(
        label=_("利用者ID"),
        max_length=100,
        required=False,
        validators=[validate_single_line_text],
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    licence_number = forms.CharField(
        label=_("通関士証票番号"),
        max_length=100,
        required=False,
        strip=False,
        validators=[validate_single_line_text],
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class NaccsPasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        label=_("現在のパスワード"),
        max_length=64,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("新しいパスワード"),
        max_length=64,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("英大文字と数字を両方含む6～8文字。直近3回までに使用したパスワードは使用できません。"),
    )
    new_password_confirm = forms.CharField(
        label=_("新しいパスワード（確認）"),
        max_length=64,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_password") and cleaned.get("new_password") != cleaned.get("new_password_confirm"):
            self.add_error("new_password_confirm", _("確認用のパスワードが一致しません。"))
        return cleaned
