"""The NACCS centre's workplace under /staff/ (SPEC §4): login with TOTP, the queue, one application's page and
its actions. Thin: authorise, parse, call one service, redirect."""

from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_otp import login as otp_login

from applications import clock
from applications.exceptions import DomainError, form_add_domain_error
from notifications import services as notification_services
from notifications.models import Email

from . import selectors, services
from .forms import ApproveForm, NoticeForm, QueueFilterForm, RejectForm, StaffLoginForm
from .permissions import PERM_REVIEW, staff_required


@require_http_methods(["GET", "POST"])
def staff_login(request):
    """スタッフログイン: password and TOTP code in one step; the session is marked as verified by django-otp."""
    form = StaffLoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.user)
        otp_login(request, form.device)
        target = request.POST.get("next") or request.GET.get("next") or ""
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = ""
        return redirect(target or "reviews:queue")
    return render(request, "reviews/login.html", {"form": form, "next": request.GET.get("next", "")})


@require_safe
@staff_required(PERM_REVIEW)
def queue(request):
    """審査キュー: oldest first, filters, search, keyset pages."""
    form = QueueFilterForm(request.GET or {"status": selectors.QUEUE_OPEN})
    filters = form.cleaned_data if form.is_valid() else {"status": selectors.QUEUE_OPEN}
    today = clock.today()
    try:
        page = selectors.application_queue(
            status=filters.get("status", selectors.QUEUE_OPEN),
            method_code=filters["method"].code if filters.get("method") else "",
            overdue=bool(filters.get("overdue")),
            q=filters.get("q", ""),
            after=filters.get("after", ""),
            today=today,
        )
    except DomainError as error:  # a mistyped reception number: said next to the search field
        form_add_domain_error(form, error)
        page = selectors.QueuePage(rows=[], next_cursor=None)
    next_query = None
    if page.next_cursor:
        params = request.GET.copy()
        params["after"] = page.next_cursor
        next_query = params.urlencode()
    context = {
        "form": form,
        "page": page,
        "today": today,
        "next_query": next_query,
    }
    return render(request, "reviews/queue.html", context)


def _detail_context(request, application, **forms):
    today = clock.today()
    return {
        "application": application,
        "trail": selectors.audit_trail(application=application),
        "emails": notification_services.emails_about(topic="application", topic_id=application.pk),
        "today": today,
        "approve_form": forms.get("approve_form")
        or ApproveForm(
            initial={
                "start_date": services.confirmed_start_date_default(application, today=today),
                "seen_status": application.status,
            }
        ),
        "reject_form": forms.get("reject_form") or RejectForm(initial={"seen_status": application.status}),
        "notice_form": forms.get("notice_form") or NoticeForm(),
        "actions": selectors.application_actions(application=application, actor=request.user),
        "overdue": application.is_overdue_on(today),
    }


def _render_detail(request, application, status=200, **forms):
    return render(
        request, "reviews/application.html", _detail_context(request, application, **forms), status=status
    )


@require_safe
@staff_required(PERM_REVIEW)
def application_detail(request, pk):
    application = selectors.application_for_staff(application_id=pk)
    return _render_detail(request, application)


@require_POST
@staff_required(PERM_REVIEW)
def application_take(request, pk):
    application = selectors.application_for_staff(application_id=pk)
    try:
        services.application_take(application=application, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("この申込を担当しました。"))
    return redirect("reviews:application", pk=pk)


def _decide(request, application, form, form_name, act):
    """Run a decision (approve/reject) from its form: a field error goes next to the field and the page is shown
    again; any other refusal (stale page, wrong state, four-eyes) is a message on the application page."""
    if form.is_valid():
        try:
            success = act(form.cleaned_data)
        except DomainError as error:
            if not form_add_domain_error(form, error, non_field=False):
                messages.error(request, error.message)
                return redirect("reviews:application", pk=application.pk)
        else:
            messages.success(request, success)
            return redirect("reviews:application", pk=application.pk)
    return _render_detail(request, application, **{form_name: form})


@require_POST
@staff_required(PERM_REVIEW)
def application_approve(request, pk):
    application = selectors.application_for_staff(application_id=pk)

    def approve(data):
        issued = services.application_approve(
            application=application,
            actor=request.user,
            start_date=data["start_date"],
            seen_status=data["seen_status"],
        )
        return ngettext(
            "承認しました。%(count)d件の利用者IDを払い出しました。",
            "承認しました。%(count)d件の利用者IDを払い出しました。",
            len(issued),
        ) % {"count": len(issued)}

    return _decide(request, application, ApproveForm(request.POST), "approve_form", approve)


@require_POST
@staff_required(PERM_REVIEW)
def application_reject(request, pk):
    application = selectors.application_for_staff(application_id=pk)

    def reject(data):
        services.application_reject(
            application=application,
            actor=request.user,
            reason=data["reason"],
            seen_status=data["seen_status"],
        )
        return _("不受理にしました。")

    return _decide(request, application, RejectForm(request.POST), "reject_form", reject)


@require_POST
@staff_required(PERM_REVIEW)
def notice_post(request, pk):
    application = selectors.application_for_staff(application_id=pk)
    form = NoticeForm(request.POST)
    if form.is_valid():
        try:
            services.progress_notice_post(
                application=application, actor=request.user, text=form.cleaned_data["text"]
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("進行状況を通知しました。"))
        return redirect("reviews:application", pk=pk)
    return _render_detail(request, application, notice_form=form)


@require_POST
@staff_required(PERM_REVIEW)
def email_resend(request, pk, email_id):
    """再送: a failed or stuck e-mail is queued again; a sent one is sent again as a new copy. Audited."""
    application = selectors.application_for_staff(application_id=pk)
    email = get_object_or_404(Email, pk=email_id, topic="application", topic_id=application.pk)
    queued = services.application_email_resend(application=application, email_id=email.pk, actor=request.user)
    if queued is None:
        messages.warning(request, _("このメールは送信処理中のため、再送しませんでした。"))
    else:
        messages.success(request, _("メールを再送キューに入れました（%(to)s）。") % {"to": email.to})
    return redirect("reviews:application", pk=pk)
