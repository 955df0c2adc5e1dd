"""The office's own account management (SPEC §11), under /office/accounts/: the office's 管理者 invites colleagues
of the same office, sends an invitation again and stops accounts. Any other office's account is a 404."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from applications import accounts, dates, selectors
from applications.exceptions import DomainError, form_add_domain_error
from applications.forms import CustomerInviteForm
from applications.permissions import customer_required


def _office_admin(request):
    if not request.user.is_office_admin:
        raise PermissionDenied
    return request.user


def invitation_sent(request, token) -> None:
    messages.success(
        request,
        _("%(username)s さんに招待のメールを %(email)s 宛てに送信しました（有効期限：%(expires)s）。")
        % {
            "username": token.user.username,
            "email": token.user.email,
            "expires": dates.format_datetime(token.expires_at),
        },
    )


@require_http_methods(["GET", "POST"])
@customer_required
def account_list(request):
    """事業所のアカウント: the office's accounts and a form to invite a colleague."""
    admin = _office_admin(request)
    form = CustomerInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token = accounts.customer_invite(actor=admin, contract=admin.contract, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            invitation_sent(request, token)
            return redirect("office-accounts")
    context = {"form": form, "accounts": selectors.office_accounts(contract_id=admin.contract_id)}
    return render(request, "nss_portal/office_accounts.html", context)


@require_POST
@customer_required
def account_resend(request, pk):
    admin = _office_admin(request)
    account = selectors.office_account_get(contract_id=admin.contract_id, account_id=pk)
    try:
        token = accounts.customer_invitation_resend(actor=admin, account=account)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        invitation_sent(request, token)
    return redirect("office-accounts")


@require_POST
@customer_required
def account_stop(request, pk):
    admin = _office_admin(request)
    account = selectors.office_account_get(contract_id=admin.contract_id, account_id=pk)
    try:
        accounts.customer_account_stop(actor=admin, account=account)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, _("%(username)s のアカウントを停止しました。") % {"username": account.username}
        )
    return redirect("office-accounts")
