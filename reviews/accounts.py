"""Views of staff account management (SPEC §1: the approver manages staff accounts), under /staff/accounts/."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from applications.exceptions import ApplicationError
from applications.models import User
from applications.roles import role_of

from . import services
from .forms import StaffAccountForm, StaffAccountUpdateForm
from .permissions import staff_required
from .services import PERM_MANAGE_STAFF


def _credentials_page(request, credentials):
    # The one and only time the password and secret are shown: not cached anywhere.
    response = render(request, "reviews/staff_credentials.html", {"credentials": credentials})
    add_never_cache_headers(response)
    return response


@require_http_methods(["GET", "POST"])
@staff_required(PERM_MANAGE_STAFF)
def account_list(request):
    """スタッフアカウント: every staff account with its role; a form to add one."""
    form = StaffAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            credentials = services.staff_account_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return _credentials_page(request, credentials)
    accounts = list(User.objects.filter(is_staff=True).prefetch_related("groups").order_by("username"))
    for account in accounts:
        account.role = role_of(account)
    return render(request, "reviews/staff_accounts.html", {"accounts": accounts, "form": form})


@require_http_methods(["GET", "POST"])
@staff_required(PERM_MANAGE_STAFF)
def account_detail(request, pk):
    account = get_object_or_404(User, pk=pk, is_staff=True)
    form = StaffAccountUpdateForm(
        request.POST or None, initial={"role": role_of(account), "is_active": account.is_active}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_account_update(actor=request.user, account=account, **form.cleaned_data)
        except ApplicationError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("スタッフアカウントを更新しました。"))
            return redirect("reviews:account", pk=account.pk)
    return render(request, "reviews/staff_account.html", {"account": account, "form": form})


@require_POST
@staff_required(PERM_MANAGE_STAFF)
def account_reset(request, pk):
    account = get_object_or_404(User, pk=pk, is_staff=True)
    return _credentials_page(request, services.staff_credentials_reset(actor=request.user, account=account))
