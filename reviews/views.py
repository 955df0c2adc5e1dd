"""The NACCS centre's workplace under /staff/ (SPEC §4): login with TOTP, the queue, one application's page and
its actions. Thin: authorise, parse, call one service, redirect."""

from django.contrib import messages
from django.contrib.auth import login
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_otp import login as otp_login

from applications import clock, dates, kinds, rules
from applications.exceptions import DomainError, form_add_domain_error
from notifications import services as notification_services
from notifications.models import Email

from . import exports, selectors, services
from .forms import (
    ApproveCommitForm,
    ApproveForm,
    BulkTakeForm,
    HolderForm,
    InternalNoteForm,
    NoticeForm,
    QueueFilterForm,
    ReassignForm,
    RejectForm,
    StaffLoginForm,
    StartDateChangeForm,
)
from .permissions import PERM_APPROVE, PERM_REVIEW, staff_required


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


def _queue_filters(request, form: QueueFilterForm) -> dict:
    return {**form.filters(actor=request.user), "today": clock.today()}


def _page_query(request, **cursor) -> str:
    """This view's URL with another page's cursor: the filters stay as they are."""
    params = request.GET.copy()
    params.pop("after", None)
    params.pop("before", None)
    params.update(cursor)
    return params.urlencode()


@require_safe
@staff_required(PERM_REVIEW)
def queue(request):
    """審査キュー (SPEC §4, §8): counts that are filters, filters and sort in the URL, keyset pages both ways."""
    form = QueueFilterForm(request.GET)
    filters = _queue_filters(request, form)
    data = form.cleaned_data if form.is_valid() else {}
    try:
        page = selectors.application_queue(
            **filters, after=data.get("after", ""), before=data.get("before", "")
        )
    except DomainError as error:  # a mistyped reception number: said next to the search field
        form_add_domain_error(form, error)
        page = selectors.QueuePage(rows=[], next_cursor=None)
    context = {
        "form": form,
        "page": page,
        "counts": selectors.queue_counts(actor=request.user, today=filters["today"]),
        "today": filters["today"],
        "next_query": _page_query(request, after=page.next_cursor) if page.next_cursor else None,
        "previous_query": _page_query(request, before=page.previous_cursor) if page.previous_cursor else None,
        "export_query": _page_query(request),
        "sort_label": dict(QueueFilterForm.SORT_CHOICES)[filters["sort"]],
        "active": {
            "submitted": request.GET.get("status") == "submitted",
            "under_review": request.GET.get("status") == "under_review",
            "overdue": bool(data.get("overdue")),
            "mine": bool(data.get("mine")),
        },
    }
    return render(request, "reviews/queue.html", context)


@require_safe
@staff_required(PERM_REVIEW)
def queue_export(request):
    """CSV出力 (SPEC §8): the filtered queue, every page of it, as CSV that Excel opens (UTF-8 with BOM)."""
    form = QueueFilterForm(request.GET)
    filters = _queue_filters(request, form)
    rows = selectors.queue_export_rows(**filters)
    try:
        first = next(rows, None)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(f"{reverse('reviews:queue')}?{_page_query(request)}")
    response = StreamingHttpResponse(
        exports.queue_csv_lines(first, rows), content_type="text/csv; charset=utf-8"
    )
    stamp = clock.now().astimezone(clock.JST).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="nss-queue-{stamp}.csv"'
    return response


@require_POST
@staff_required(PERM_REVIEW)
def bulk_take(request):
    """選択した申込を担当する: each ticked application is taken in its own transaction; the page lists what became
    of each."""
    form = BulkTakeForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["applications"][0])
        return redirect("reviews:queue")
    try:
        results = services.applications_bulk_take(
            application_ids=form.cleaned_data["applications"], actor=request.user
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("reviews:queue")
    taken = sum(result.taken for result in results)
    return render(
        request,
        "reviews/bulk_take.html",
        {"results": results, "taken": taken, "refused": len(results) - taken},
    )


def _approve_form(application, today):
    return ApproveForm(
        initial={
            "start_date": services.confirmed_start_date_default(application, today=today),
            "seen_status": application.status,
        },
        kind=kinds.kind_of(application),
    )


def _kind_context(application) -> dict:
    """The application's kind (applications/kinds.py) and the date its customer asked for, for the templates."""
    kind = kinds.kind_of(application)
    return {"kind": kind, "desired_date": kind.desired_date(application)}


def _detail_context(request, application, **forms):
    today = clock.today()
    holder = HolderForm(initial={"seen_reviewer": application.reviewer_id or 0})
    return {
        "application": application,
        **_kind_context(application),
        "trail": selectors.audit_trail(application=application),
        "emails": notification_services.emails_about(topic="application", topic_id=application.pk),
        "today": today,
        "approve_form": forms.get("approve_form") or _approve_form(application, today),
        "reject_form": forms.get("reject_form") or RejectForm(initial={"seen_status": application.status}),
        "notice_form": forms.get("notice_form") or NoticeForm(),
        "note_form": forms.get("note_form") or InternalNoteForm(),
        "holder_form": holder,
        "reassign_form": forms.get("reassign_form")
        or ReassignForm(initial={"seen_reviewer": application.reviewer_id or 0}),
        "start_date_form": forms.get("start_date_form")
        or StartDateChangeForm(initial={"seen_start_date": application.start_date}),
        "actions": selectors.application_actions(application=application, actor=request.user, today=today),
        "overdue": application.is_overdue_on(today),
        "start_date_near": rules.is_start_date_near(application, today),
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


def _act(request, pk, act, success: str):
    """Run one action that needs no form of its own; any refusal is a message on the application page."""
    try:
        act()
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success)
    return redirect("reviews:application", pk=pk)


@require_POST
@staff_required(PERM_REVIEW)
def application_take(request, pk):
    application = selectors.application_for_staff(application_id=pk)
    return _act(
        request,
        pk,
        lambda: services.application_take(application=application, actor=request.user),
        _("この申込を担当しました。"),
    )


def _seen_reviewer(request) -> int | None:
    form = HolderForm(request.POST)
    return form.cleaned_data["seen_reviewer"] if form.is_valid() else None


@require_POST
@staff_required(PERM_REVIEW)
def application_release(request, pk):
    """担当を外す: back to 受付."""
    application = selectors.application_for_staff(application_id=pk)
    return _act(
        request,
        pk,
        lambda: services.application_release(
            application=application, actor=request.user, seen_reviewer_id=_seen_reviewer(request)
        ),
        _("担当を外しました。申込は「受付」に戻りました。"),
    )


def _form_action(request, application, form, form_name, act):
    """Run an action from its form: a field error goes next to the field and the page is shown again; any other
    refusal (stale page, wrong state, four-eyes) is a message on the application page."""
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
@staff_required(PERM_APPROVE)
def application_reassign(request, pk):
    """担当者を変更 (approvers)."""
    application = selectors.application_for_staff(application_id=pk)

    def reassign(data):
        services.application_reassign(
            application=application,
            actor=request.user,
            reviewer=data["reviewer"],
            seen_reviewer_id=data["seen_reviewer"],
        )
        return _("担当者を%(name)sに変更しました。") % {"name": data["reviewer"].get_username()}

    return _form_action(request, application, ReassignForm(request.POST), "reassign_form", reassign)


@require_safe
@staff_required(PERM_REVIEW)
def approve_confirm(request, pk):
    """承認内容を確認する: what approval will do, and only then the button that does it. Changes nothing."""
    application = selectors.application_for_staff(application_id=pk)
    form = ApproveForm(request.GET, kind=kinds.kind_of(application))
    if not form.is_valid():
        return _render_detail(request, application, approve_form=form)
    data = form.cleaned_data
    try:
        plan = services.approval_plan(
            application=application,
            actor=request.user,
            start_date=data.get("start_date"),
            seen_status=data["seen_status"],
        )
    except DomainError as error:
        if form_add_domain_error(form, error, non_field=False):
            return _render_detail(request, application, approve_form=form)
        messages.error(request, error.message)
        return redirect("reviews:application", pk=pk)
    commit = ApproveCommitForm(
        initial={
            "start_date": plan.start_date.isoformat() if plan.start_date else None,
            "seen_status": application.status,
            "confirmation": plan.confirmation,
        },
        kind=kinds.kind_of(application),
    )
    context = {
        "application": application,
        **_kind_context(application),
        "plan": plan,
        "form": commit,
        "today": clock.today(),
    }
    return render(request, "reviews/approve_confirm.html", context)


@require_POST
@staff_required(PERM_REVIEW)
def application_approve(request, pk):
    """承認する（IDを払い出す）: only from the confirmation screen, and only as it was confirmed."""
    application = selectors.application_for_staff(application_id=pk)
    form = ApproveCommitForm(request.POST, kind=kinds.kind_of(application))
    if not form.is_valid():
        messages.error(request, _("承認内容を確認してから承認してください。"))
        return redirect("reviews:application", pk=pk)
    data = form.cleaned_data
    try:
        issued = services.application_approve(
            application=application,
            actor=request.user,
            start_date=data.get("start_date"),
            seen_status=data["seen_status"],
            confirmation=data["confirmation"],
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("reviews:application", pk=pk)
    if kinds.kind_of(application).approval == kinds.RESET:
        message = ngettext(
            "承認しました。%(count)d件の利用者IDのパスワードを初期化しました。",
            "承認しました。%(count)d件の利用者IDのパスワードを初期化しました。",
            len(issued),
        )
    elif kinds.kind_of(application).approval == kinds.REVOKE:
        message = ngettext(
            "承認しました。%(count)d件の通関士IDを利用終了日から削除します。",
            "承認しました。%(count)d件の通関士IDを利用終了日から削除します。",
            len(issued),
        )
    else:
        message = ngettext(
            "承認しました。%(count)d件の利用者IDを払い出しました。",
            "承認しました。%(count)d件の利用者IDを払い出しました。",
            len(issued),
        )
    messages.success(request, message % {"count": len(issued)})
    return redirect("reviews:application", pk=pk)


@require_POST
@staff_required(PERM_REVIEW)
def start_date_change(request, pk):
    """利用開始日を変更する: after approval, before the start date."""
    application = selectors.application_for_staff(application_id=pk)

    def change(data):
        services.application_start_date_change(
            application=application,
            actor=request.user,
            start_date=data["start_date"],
            reason=data["reason"],
            seen_start_date=data["seen_start_date"],
        )
        return _("利用開始日を%(date)sに変更しました。お客様にお知らせのメールを送ります。") % {
            "date": dates.format_date(data["start_date"])
        }

    return _form_action(request, application, StartDateChangeForm(request.POST), "start_date_form", change)


@require_POST
@staff_required(PERM_REVIEW)
def note_add(request, pk):
    """メモを追加: staff-only."""
    application = selectors.application_for_staff(application_id=pk)

    def add(data):
        services.internal_note_add(application=application, actor=request.user, text=data["note"])
        return _("メモを追加しました。")

    return _form_action(request, application, InternalNoteForm(request.POST), "note_form", add)


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

    return _form_action(request, application, RejectForm(request.POST), "reject_form", reject)


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
