import unicodedata

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from applications.validators import validate_single_line_text


class PortalCredentialsFields(forms.Form):
    """ユーザーID and パスワード as both portal logins ask them: the customers' (screen 1) and the staff's."""

    username = forms.CharField(
        label=_("ユーザーID"), max_length=150, widget=forms.TextInput(attrs={"autofocus": True})
    )
    password = forms.CharField(
        label=_("パスワード"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class OwnPasswordForm(forms.Form):
    """A person choosing their own password, typed twice, held to Django's validators (at least 12 characters):
    staff enrolment and the customers' password reset."""

    password1 = forms.CharField(
        label=_("パスワード"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_(
            "12文字以上。よく使われるパスワード、数字だけのもの、ユーザーIDやメールアドレスに似たものは使えません。"
        ),
    )
    password2 = forms.CharField(
        label=_("パスワード（確認）"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("確認用のパスワードが一致しません。"))
        if password1:
            try:
                password_validation.validate_password(password1, self.user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


def otp_token_field(*, max_length: int) -> forms.CharField:
    """The 6-digit code of an authenticator app (the staff login and enrolment, a customer's second step)."""
    return forms.CharField(
        label=_("確認コード（認証アプリの6桁）"),
        max_length=max_length,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def otp_code(value: str) -> str:
    """A code as typed (full-width digits, spaces between groups) → its digits."""
    return unicodedata.normalize("NFKC", value or "").replace(" ", "").strip()


class AuthenticatorCodeForm(forms.Form):
    """One current code of an authenticator app: 6 digits (shape checked here, the code by the device)."""

    otp_token = otp_token_field(max_length=12)

    def clean_otp_token(self):
        code = otp_code(self.cleaned_data["otp_token"])
        if not code.isascii() or not code.isdigit() or len(code) != 6:
            raise forms.ValidationError(_("確認コードは6桁の数字で入力してください。"), code="otp_shape")
        return code


class PasswordResetRequestForm(forms.Form):
    """「パスワードをお忘れの方」: the e-mail address of the account."""

    email = forms.EmailField(
        label=_("メールアドレス"),
        max_length=254,
        validators=[validate_single_line_text],
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class LoginForm(PortalCredentialsFields, AuthenticationForm):
    """ログイン画面 (screen 1): ユーザーID and パスワード."""

    error_messages = {
        "invalid_login": _("ユーザーIDまたはパスワードが正しくありません。"),
        "inactive": _("このアカウントは利用できません。"),
    }

    def confirm_login_allowed(self, user):
        """Only customer accounts log in here; NACCS centre staff use the staff login with TOTP (SPEC §4)."""
        super().confirm_login_allowed(user)
        if not user.is_customer:
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")
