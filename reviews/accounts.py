"""Views of staff account management (SPEC §1: the approver manages staff accounts), under /staff/accounts/, and
the staff member's own enrolment through the link e-mailed to them (SPEC §10), under /staff/enrol/<token>/."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from applications import authenticators, enrolment
from applications.exceptions import DomainError, form_add_domain_error

from . import selectors, services
from .forms import StaffAccountForm, StaffAccountUpdateForm, StaffEnrolmentForm
from .permissions import PERM_MANAGE_STAFF, staff_required


def _link_sent(request, sent: services.EnrolmentLinkSent):
    """Tell the approver where the link went and until when; the link itself is never on any page of theirs."""
    messages.success(
        request,
        _(
            "%(username)s の登録用リンクを %(email)s に送信しました（有効期限：%(expires)s）。"
            "本人がリンクを開いてパスワードと認証アプリを登録するまで、このアカウントではログインできません。"
        )
        % {
            "username": sent.account.username,
            "email": sent.email,
            "expires": services.format_datetime_ja(sent.expires_at),
        },
    )
    return redirect("reviews:account", pk=sent.account.pk)


@require_http_methods(["GET", "POST"])
@staff_required(PERM_MANAGE_STAFF)
def account_list(request):
    """スタッフアカウント: every staff account with its role; a form to add one."""
    form = StaffAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sent = services.staff_account_create(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            return _link_sent(request, sent)
    accounts = selectors.staff_account_list()
    return render(request, "reviews/staff_accounts.html", {"accounts": accounts, "form": form})


@require_http_methods(["GET", "POST"])
@staff_required(PERM_MANAGE_STAFF)
def account_detail(request, pk):
    account = selectors.staff_account_get(account_id=pk)
    form = StaffAccountUpdateForm(
        request.POST or None, initial={"role": account.role, "is_active": account.is_active}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_account_update(actor=request.user, account=account, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("スタッフアカウントを更新しました。"))
            return redirect("reviews:account", pk=account.pk)
    link = account.pending_link
    context = {
        "account": account,
        "form": form,
        "enrolled": account.enrolled,
        "link_expires_at": services.format_datetime_ja(link.expires_at) if link else None,
    }
    return render(request, "reviews/staff_account.html", context)


@require_POST
@staff_required(PERM_MANAGE_STAFF)
def account_reset(request, pk):
    """再発行: the old password and authenticator stop working; a new enrolment link goes to the owner."""
    account = selectors.staff_account_get(account_id=pk)
    try:
        sent = services.staff_credentials_reset(actor=request.user, account=account)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("reviews:account", pk=account.pk)
    return _link_sent(request, sent)


# --- the staff member's own enrolment (public: the link is the credential) ---------------------------------------


def _invalid_link(request):
    return render(request, "reviews/enrol_invalid.html", status=404)


@never_cache
@require_http_methods(["GET", "POST"])
def enrol(request, token):
    """スタッフアカウントの登録: the owner of the link sets their password and enrols their authenticator."""
    try:
        pending = services.staff_enrolment_start(raw_token=token)
    except enrolment.EnrolmentTokenInvalid:
        return _invalid_link(request)
    form = StaffEnrolmentForm(request.POST if request.method == "POST" else None, user=pending.account)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_enrolment_complete(
                raw_token=token,
                password=form.cleaned_data["password1"],
                otp_token=form.cleaned_data["otp_token"],
            )
        except enrolment.EnrolmentTokenInvalid:
            return _invalid_link(request)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            return redirect("reviews:enrol-complete")
    context = {
        "form": form,
        "account": pending.account,
        "expires_at": services.format_datetime_ja(pending.expires_at),
        "qr_code": authenticators.qr_data_uri(pending.otpauth_uri),
        "secret": authenticators.secret_text(pending.device),
    }
    return render(request, "reviews/enrol.html", context)


@require_safe
def enrol_complete(request):
    return render(request, "reviews/enrol_complete.html")
