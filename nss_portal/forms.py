from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


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
