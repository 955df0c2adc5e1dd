"""The portal shell: login, menu (screen 2) and the 通関士ID guidance (screen 3)."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from django_otp import login as otp_login

from applications import accounts, authenticators, business_calendar, dates, enrolment, kinds, selectors
from applications.exceptions import DomainError, form_add_domain_error
from applications.models import ApplicationKind
from applications.permissions import customer_required, second_factor_missing

from .client_address import client_address
from .forms import AuthenticatorCodeForm, LoginForm, OwnPasswordForm, PasswordResetRequestForm


class LoginView(auth_views.LoginView):
    """ログイン画面 (screen 1). `next` is honoured (the confirmation e-mail's link lands on 詳細)."""

    template_name = "nss_portal/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        # A staff member who is already logged in belongs in the workplace, not on a customer page.
        if self.request.user.is_authenticated and self.request.user.is_staff:
            return resolve_url("reviews:queue")
        return super().get_default_redirect_url()


@require_safe
def home(request):
    if request.user.is_authenticated and request.user.is_staff:
        return redirect("reviews:queue")
    return redirect("menu")


@require_safe
@customer_required
def menu(request):
    """メニュー画面 (screen 2)."""
    contract = selectors.contract_for_display(contract=request.user.contract)
    context = {
        "contract": contract,
        "drafts": selectors.application_drafts_of(user=request.user),
        "kinds": kinds.KINDS.values(),
        "draft_expiry_days": settings.NSS_DRAFT_EXPIRY_DAYS,
    }
    return render(request, "nss_portal/menu.html", context)


@require_http_methods(["GET", "POST"])
def password_reset(request):
    """「パスワードをお忘れの方」: the address of the account; the same answer whether or not it is one."""
    form = PasswordResetRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        accounts.password_reset_request(
            email=form.cleaned_data["email"], client_address=client_address(request)
        )
        return redirect("password-reset-sent")
    return render(request, "nss_portal/password_reset.html", {"form": form})


@require_safe
def password_reset_sent(request):
    return render(
        request, "nss_portal/password_reset_sent.html", {"minutes": settings.NSS_PASSWORD_RESET_MINUTES}
    )


def _own_password_page(request, token, *, start, complete, screen: str, invalid: str, done: str):
    """The page of a single-use link where a customer sets their own password (a reset, an invitation)."""
    try:
        pending = start(raw_token=token)
    except enrolment.EnrolmentTokenInvalid:
        return render(request, "nss_portal/link_invalid.html", {"screen": invalid}, status=404)
    form = OwnPasswordForm(request.POST if request.method == "POST" else None, user=pending.user)
    if request.method == "POST" and form.is_valid():
        try:
            complete(raw_token=token, password=form.cleaned_data["password1"])
        except enrolment.EnrolmentTokenInvalid:
            return render(request, "nss_portal/link_invalid.html", {"screen": invalid}, status=404)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            return redirect(done)
    context = {
        "form": form,
        "account": pending.user,
        "expires_at": dates.format_datetime(pending.expires_at),
        "screen": screen,
    }
    return render(request, "nss_portal/own_password.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset_confirm(request, token):
    """The link of the reset e-mail: the account's new password, twice."""
    return _own_password_page(
        request,
        token,
        start=accounts.password_reset_start,
        complete=accounts.password_reset_complete,
        screen="password-reset-confirm",
        invalid="password-reset-invalid",
        done="password-reset-done",
    )


@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request, token):
    """The link of the invitation e-mail: the invited person sets their own password."""
    return _own_password_page(
        request,
        token,
        start=accounts.invitation_start,
        complete=accounts.invitation_accept,
        screen="invitation",
        invalid="invitation-invalid",
        done="invitation-done",
    )


@require_safe
def invitation_done(request):
    return render(request, "nss_portal/invitation_done.html")


@require_safe
def password_reset_done(request):
    return render(request, "nss_portal/password_reset_done.html")


CUSTOMER_SETUP_DEVICE = "customer-setup"


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def login_otp(request):
    """確認コード: the second step of a customer's login when the contract requires an authenticator (SPEC §11).
    The first time the customer enrols their own app (QR code, or the secret as text) with one code; after that one
    code of it is asked at every login."""
    user = request.user
    if not user.is_customer:
        raise PermissionDenied
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        target = ""
    if not second_factor_missing(user):
        return redirect(target or "menu")
    device = authenticators.authenticator_confirmed(user)
    form = AuthenticatorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["otp_token"]
        try:
            if device is None:
                device = authenticators.authenticator_confirm(
                    user=user, name=CUSTOMER_SETUP_DEVICE, otp_token=code
                )
            elif not device.verify_token(code):
                raise DomainError(
                    _(
                        "確認コードが正しくありません。認証アプリに表示されている6桁の数字を入力してください。"
                    ),
                    field="otp_token",
                    code="wrong_code",
                )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            otp_login(request, device)
            return redirect(target or "menu")
    context = {"form": form, "next": target, "setup": device is None}
    if device is None:
        pending = authenticators.authenticator_pending(user=user, name=CUSTOMER_SETUP_DEVICE)
        context |= {
            "qr_code": authenticators.qr_data_uri(pending.config_url),
            "secret": authenticators.secret_text(pending),
        }
    return render(request, "nss_portal/login_otp.html", context)


GUIDANCE_TEMPLATES = {
    ApplicationKind.ADD_CUSTOMS_BROKER_IDS: "nss_portal/guidance.html",
    ApplicationKind.REMOVE_BROKER_IDS: "nss_portal/guidance_remove.html",
    ApplicationKind.RESET_PASSWORDS: "nss_portal/guidance_reset.html",
}


@require_safe
@customer_required
def guidance(request, kind=ApplicationKind.ADD_CUSTOMS_BROKER_IDS):
    """ガイダンス画面 (screen 3) of a kind: the guide's flow and its parts, with the rules as they are set, and the
    button that starts (or resumes) the kind's draft."""
    context = {
        "kind": kinds.kind_of(kind),
        "closed_periods": business_calendar.closed_periods_text(),
        "min_business_days": settings.NSS_START_DATE_MIN_BUSINESS_DAYS,
        "max_months": settings.NSS_START_DATE_MAX_MONTHS,
        "draft_expiry_days": settings.NSS_DRAFT_EXPIRY_DAYS,
    }
    return render(request, GUIDANCE_TEMPLATES[kind], context)
