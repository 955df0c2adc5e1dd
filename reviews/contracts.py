"""Views of contract management (SPEC §11: the centre registers offices itself), under /staff/contracts/."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from applications import accounts
from applications import selectors as customer_selectors
from applications.exceptions import DomainError, form_add_domain_error
from applications.forms import CustomerInviteForm
from nss_portal.office import invitation_sent

from . import selectors, services
from .forms import ContractForm, ContractImportForm, ContractSearchForm
from .permissions import PERM_MANAGE_CONTRACTS, staff_required

# The contract page holds two forms (the contract, an invitation): the invitation's fields are prefixed.
INVITE_PREFIX = "invite"


@require_safe
@staff_required(PERM_MANAGE_CONTRACTS)
def contract_list(request):
    """契約一覧: by 利用者コード, searchable, 50 a page."""
    form = ContractSearchForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.contract_list(q=filters.get("q", ""), after=filters.get("after", ""))
    next_query = None
    if page.next_after:
        params = request.GET.copy()
        params["after"] = page.next_after
        next_query = params.urlencode()
    return render(request, "reviews/contracts.html", {"form": form, "page": page, "next_query": next_query})


@require_http_methods(["GET", "POST"])
@staff_required(PERM_MANAGE_CONTRACTS)
def contract_import(request):
    """契約の一括登録: upload the CSV; a dry run (the default) shows what would change and every error."""
    form = ContractImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        report = services.contract_file_import(
            actor=request.user, file=form.cleaned_data["file"], dry_run=form.cleaned_data["dry_run"]
        )
    context = {"form": form, "report": report, "errors": report.errors[:200] if report else []}
    return render(request, "reviews/contract_import.html", context)


@require_http_methods(["GET", "POST"])
@staff_required(PERM_MANAGE_CONTRACTS)
def contract_create(request):
    """契約の登録."""
    form = ContractForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_create(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("契約 %(code)s を登録しました。") % {"code": contract.user_code})
            return redirect("reviews:contract", pk=contract.pk)
    return render(request, "reviews/contract_new.html", {"form": form})


@require_http_methods(["GET", "POST"])
@staff_required(PERM_MANAGE_CONTRACTS)
def contract_detail(request, pk):
    """契約: its data (to change), its 利用者IDs, its customer accounts and its audit trail."""
    contract = selectors.contract_for_staff(contract_id=pk)
    form = ContractForm(request.POST or None, initial=_contract_initial(contract), editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.contract_update(actor=request.user, contract=contract, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("契約を変更しました。"))
            return redirect("reviews:contract", pk=contract.pk)
    return _contract_page(request, contract, form=form)


def _contract_page(request, contract, *, form=None, invite_form=None):
    context = {
        "contract": contract,
        "form": form or ContractForm(initial=_contract_initial(contract), editing=True),
        "invite_form": invite_form or CustomerInviteForm(with_admin=True, prefix=INVITE_PREFIX),
        "naccs_ids": contract.naccs_user_ids.all(),
        "accounts": customer_selectors.office_accounts(contract_id=contract.pk),
        "trail": selectors.contract_audit_trail(contract=contract),
    }
    return render(request, "reviews/contract.html", context)


def _contract_initial(contract) -> dict:
    return {
        "company_name": contract.company_name,
        "office_name": contract.office_name,
        "department": contract.department,
        "address": contract.address,
        "processing_methods": list(contract.processing_methods.all()),
        "customer_totp_required": contract.customer_totp_required,
    }


@require_POST
@staff_required(PERM_MANAGE_CONTRACTS)
def contract_account_invite(request, pk):
    """お客様アカウントを招待する: from the contract page; the centre may make the account the office's 管理者."""
    contract = selectors.contract_for_staff(contract_id=pk)
    form = CustomerInviteForm(request.POST, with_admin=True, prefix=INVITE_PREFIX)
    if form.is_valid():
        try:
            token = accounts.customer_invite(actor=request.user, contract=contract, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            invitation_sent(request, token)
            return redirect("reviews:contract", pk=contract.pk)
    return _contract_page(request, contract, invite_form=form)


@require_POST
@staff_required(PERM_MANAGE_CONTRACTS)
def contract_account_resend(request, pk, account_id):
    account = customer_selectors.office_account_get(contract_id=pk, account_id=account_id)
    try:
        token = accounts.customer_invitation_resend(actor=request.user, account=account)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        invitation_sent(request, token)
    return redirect("reviews:contract", pk=pk)


@require_POST
@staff_required(PERM_MANAGE_CONTRACTS)
def contract_account_stop(request, pk, account_id):
    account = customer_selectors.office_account_get(contract_id=pk, account_id=account_id)
    accounts.customer_account_stop(actor=request.user, account=account)
    messages.success(request, _("%(username)s のアカウントを停止しました。") % {"username": account.username})
    return redirect("reviews:contract", pk=pk)
