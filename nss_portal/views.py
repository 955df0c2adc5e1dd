"""The portal shell: login, menu (screen 2) and the 通関士ID guidance (screen 3)."""

from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render, resolve_url
from django.views.decorators.http import require_safe

from applications import selectors
from applications.permissions import customer_required

from .forms import LoginForm


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
    contract = selectors.contract_for_display(contract_id=request.user.contract_id)
    draft = selectors.application_draft_of(user=request.user)
    return render(request, "nss_portal/menu.html", {"contract": contract, "draft": draft})


@require_safe
@customer_required
def guidance(request):
    """通関士IDガイダンス画面 (screen 3)."""
    return render(request, "nss_portal/guidance.html")
