"""Views of contract management (SPEC §11: the centre registers offices itself), under /staff/contracts/."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from applications.exceptions import DomainError, form_add_domain_error

from . import selectors, services
from .forms import ContractForm, ContractSearchForm
from .permissions import PERM_MANAGE_CONTRACTS, staff_required


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
    initial = {
        "company_name": contract.company_name,
        "office_name": contract.office_name,
        "department": contract.department,
        "address": contract.address,
        "processing_methods": list(contract.processing_methods.all()),
    }
    form = ContractForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.contract_update(actor=request.user, contract=contract, **form.cleaned_data)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("契約を変更しました。"))
            return redirect("reviews:contract", pk=contract.pk)
    context = {
        "contract": contract,
        "form": form,
        "naccs_ids": contract.naccs_user_ids.all(),
        "accounts": contract.users.all(),
        "trail": selectors.contract_audit_trail(contract=contract),
    }
    return render(request, "reviews/contract.html", context)
