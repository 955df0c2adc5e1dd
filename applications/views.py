"""The customer's filing screens (SPEC §3, screens 4–10).

Thin: authorise, parse, call one service, redirect."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import kinds, pdf, selectors, services, workflow
from .exceptions import DomainError, form_add_domain_error
from .forms import AddIdsForm, ApplicantForm, SelectIdsForm
from .models import Application, ApplicationKind, ApplicationStatus
from .permissions import customer_required


def _draft_or_redirect(request, pk, *, screen: str | None = None):
    """The office's application `pk` while it is a draft; once submitted, every draft screen leads to its
    completion screen (back button, second tab). Another office's application is a 404. With `screen` (a
    selection step), a draft of a kind whose selection step is another one is led to its own."""
    application = get_object_or_404(
        Application.objects.select_related("contract"), pk=pk, contract_id=request.user.contract_id
    )
    if application.status != ApplicationStatus.DRAFT:
        return None, redirect("applications:complete", pk=application.pk)
    own = kinds.kind_of(application).selection_screen
    if screen is not None and screen != own:
        return None, redirect(f"applications:{own}", pk=application.pk)
    return application, None


@require_POST
@customer_required
def start(request):
    """通関士IDを追加する / 通関士IDを削除する / パスワードを初期化する (the guidance of the kind): resume this account's draft of the kind
    (the form's `kind`) or start a new one."""
    try:
        kind = ApplicationKind(request.POST.get("kind", ApplicationKind.ADD_CUSTOMS_BROKER_IDS))
    except ValueError:
        raise Http404 from None
    application = services.application_draft_start(user=request.user, kind=kind)
    return redirect("applications:applicant", pk=application.pk)


@require_http_methods(["GET", "POST"])
@customer_required
def applicant(request, pk):
    """申込担当者入力画面 (screen 4)."""
    application, done = _draft_or_redirect(request, pk)
    if done:
        return done
    initial = {
        "name": application.applicant_name,
        "department": application.applicant_department,
        "phone": application.applicant_phone,
        "email": application.applicant_email,
    }
    form = ApplicantForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.application_applicant_set(application=application, **form.cleaned_data)
        return redirect(f"applications:{kinds.kind_of(application).selection_screen}", pk=application.pk)
    context = {"application": application, "kind": kinds.kind_of(application), "form": form}
    return render(request, "applications/applicant.html", context)


@require_http_methods(["GET", "POST"])
@customer_required
def add_ids(request, pk):
    """追加登録画面 (screen 5): 設定する adds one ID, 削除 removes one, 申込内容確認へ進む goes on.

    Whatever the button, what the customer typed is shown again: the set IDs and the date live on the server,
    the fields not yet set come back from the POST.
    """
    application, done = _draft_or_redirect(request, pk, screen="add-ids")
    if done:
        return done
    contract = selectors.contract_for_display(contract=application.contract)
    form_kwargs = {"contract": contract, "application": application}
    if request.method == "GET":
        form = AddIdsForm(initial={"desired_start_date": application.desired_start_date}, **form_kwargs)
    elif "remove" in request.POST:
        try:
            item_id = int(request.POST["remove"])
        except ValueError:
            item_id = 0
        removed = services.application_item_remove(application=application, item_id=item_id)
        if removed is not None:
            messages.success(
                request,
                _("削除しました：%(method)s・希望識別番号 %(identifier)s・%(name)s")
                % {
                    "method": removed.processing_method.label,
                    "identifier": removed.desired_identifier or _("指定なし"),
                    "name": removed.broker_name,
                },
            )
        form = AddIdsForm(initial=request.POST.dict(), **form_kwargs)
    else:
        action = AddIdsForm.PROCEED if "proceed" in request.POST else AddIdsForm.ADD
        form = AddIdsForm(request.POST, action=action, **form_kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if action == AddIdsForm.PROCEED:
                    services.application_desired_start_date_set(
                        application=application, desired_start_date=data["desired_start_date"]
                    )
                    return redirect("applications:confirm", pk=application.pk)
                services.application_item_add(
                    application=application,
                    desired_start_date=data["desired_start_date"],
                    processing_method=data["processing_method"],
                    desired_identifier=data["desired_identifier"],
                    broker_name=data["broker_name"],
                )
                return redirect(
                    reverse("applications:add-ids", kwargs={"pk": application.pk}) + "#application-info"
                )
            except DomainError as error:
                form_add_domain_error(form, error)
    context = {
        "application": application,
        "kind": kinds.kind_of(application),
        "contract": contract,
        "form": form,
        "items": selectors.application_items(application=application),
    }
    return render(request, "applications/add_ids.html", context)


@require_http_methods(["GET", "POST"])
@customer_required
def select_ids(request, pk):
    """対象IDの選択 (`select-ids`: 通関士IDの削除, パスワードの初期化): the contract's selectable IDs as checkboxes
    (and a removal's 利用終了希望日); 申込内容確認へ進む keeps them on the draft and goes on."""
    application, done = _draft_or_redirect(request, pk, screen="select-ids")
    if done:
        return done
    kind = kinds.kind_of(application)
    contract = selectors.contract_for_display(contract=application.contract)
    selectable = list(kinds.selectable_ids(application.kind, contract_id=application.contract_id))
    if request.method == "POST":
        form = SelectIdsForm(request.POST, kind=kind, selectable_ids=selectable)
        if form.is_valid():
            try:
                services.application_targets_set(
                    application=application,
                    target_ids=form.cleaned_data["targets"],
                    desired_end_date=form.cleaned_data.get("desired_end_date"),
                )
            except DomainError as error:
                form_add_domain_error(form, error)
            else:
                return redirect("applications:confirm", pk=application.pk)
    else:
        chosen = [str(item.target_id) for item in application.items.all() if item.target_id]
        form = SelectIdsForm(
            initial={"targets": chosen, "desired_end_date": application.desired_end_date},
            kind=kind,
            selectable_ids=selectable,
        )
    selected = {str(value) for value in (form["targets"].value() or [])}
    context = {
        "application": application,
        "kind": kind,
        "contract": contract,
        "form": form,
        "selectable": [(naccs_id, str(naccs_id.pk) in selected) for naccs_id in selectable],
    }
    return render(request, "applications/select_ids.html", context)


@require_http_methods(["GET", "POST"])
@customer_required
def confirm(request, pk):
    """申込内容確認画面 (screen 6): 申込内容を登録する files it; a second POST of the same draft files nothing."""
    application, done = _draft_or_redirect(request, pk)
    if done:
        if request.method == "POST":
            messages.info(request, _("この申込は既に登録されています。"))
        return done
    error = None
    if request.method == "POST":
        try:
            submitted = services.application_submit(application=application)
        except DomainError as exc:
            if exc.code == "already_submitted":
                messages.info(request, exc.message)
                return redirect("applications:complete", pk=application.pk)
            error = exc.message
        else:
            return redirect("applications:complete", pk=submitted.pk)
    context = {
        "application": application,
        "kind": kinds.kind_of(application),
        "contract": selectors.contract_for_display(contract=application.contract),
        "items": selectors.application_items(application=application),
        "error": error,
    }
    return render(request, "applications/confirm.html", context)


# Where 「削除せずに戻る」 of the discard confirmation leads: the screen its キャンセル was on (`?from=`).
DISCARD_BACK = {
    "menu": "menu",
    "applicant": "applications:applicant",
    "add-ids": "applications:add-ids",
    "select-ids": "applications:select-ids",
    "confirm": "applications:confirm",
}


@require_http_methods(["GET", "POST"])
@customer_required
def discard(request, pk):
    """キャンセル (screens 4–6, the menu): GET asks 「この下書きを削除しますか？」 and changes nothing; 下書きを削除する
    (POST) deletes the draft and goes back to the menu. A draft already submitted leads to its completion screen."""
    application, done = _draft_or_redirect(request, pk)
    if done:
        return done
    if request.method == "POST":
        try:
            services.application_draft_discard(application=application, actor=request.user)
        except DomainError as error:
            messages.info(request, error.message)
            if error.code == "already_submitted":
                return redirect("applications:complete", pk=application.pk)
        else:
            messages.success(request, _("下書きを削除しました。"))
        return redirect("menu")
    back = DISCARD_BACK.get(request.GET.get("from", ""), "applications:applicant")
    context = {
        "application": application,
        "items": selectors.application_items(application=application),
        "back_url": reverse("menu") if back == "menu" else reverse(back, kwargs={"pk": application.pk}),
    }
    return render(request, "applications/discard.html", context)


@require_safe
@customer_required
def complete(request, pk):
    """利用申込完了画面 (screen 7)."""
    application = selectors.application_get(user=request.user, application_id=pk)
    context = {"application": application, "kind": kinds.kind_of(application)}
    return render(request, "applications/complete.html", context)


@require_safe
@customer_required
def application_list(request):
    """申込状況一覧 (screen 8)."""
    page = Paginator(selectors.application_list(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "applications/application_list.html", {"page": page})


@require_safe
@customer_required
def application_detail(request, pk):
    """申込詳細 (screen 9): 申込結果, 進行状況 (newest first) and the IDs asked; ID通知内容 once approved."""
    application = selectors.application_get(user=request.user, application_id=pk)
    context = {
        "application": application,
        "kind": kinds.kind_of(application),
        "approved": application.status == ApplicationStatus.APPROVED,
        "withdrawable": workflow.can_transition(application.status, ApplicationStatus.WITHDRAWN),
    }
    return render(request, "applications/application_detail.html", context)


@require_http_methods(["GET", "POST"])
@customer_required
def withdraw(request, pk):
    """取下げ (screen 9): GET asks for the confirmation (`withdraw-confirm`), POST withdraws; only while 受付, refused
    with a message once a reviewer has taken it."""
    application = selectors.application_get(user=request.user, application_id=pk)
    if request.method == "GET":
        if not workflow.can_transition(application.status, ApplicationStatus.WITHDRAWN):
            messages.error(request, _("この申込は取り下げできません。"))
            return redirect("applications:application-detail", pk=application.pk)
        return render(request, "applications/withdraw_confirm.html", {"application": application})
    try:
        services.application_withdraw(application=application, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("申込を取り下げました。確認のメールをお送りします。"))
    return redirect("applications:application-detail", pk=application.pk)


def _id_notice_context(notice: selectors.IdNotice) -> dict:
    return {
        "application": notice.application,
        "kind": kinds.kind_of(notice.application),
        "issued_ids": notice.issued_ids,
        "any_reset_later": notice.any_reset_later,
        "produced_at": notice.produced_at,
    }


@never_cache  # Cache-Control: no-store (and private, no-cache): the page carries initial passwords.
@require_safe
@customer_required
def id_notice(request, pk):
    """ID通知内容 (screen 10): the issued 利用者IDs and initial passwords, printable. Each view is audited."""
    notice = selectors.id_notice_get(user=request.user, application_id=pk)
    services.application_id_notice_viewed(application=notice.application, actor=request.user)
    return render(request, "applications/id_notice.html", _id_notice_context(notice))


@never_cache  # the PDF carries the initial passwords too
@require_safe
@customer_required
def id_notice_pdf(request, pk):
    """「PDFで保存」 of screen 10: the same notice as a PDF download, under the same rules (the office's approved
    application only, passwords until changed) and audited like the screen. Where this server cannot make PDFs, a
    page says so and that printing the screen works (503), and nothing is audited: nothing was shown."""
    notice = selectors.id_notice_get(user=request.user, application_id=pk)
    html = render_to_string("applications/id_notice_pdf.html", _id_notice_context(notice), request=request)
    try:
        document = pdf.html_to_pdf(html, stylesheet="css/id_notice_pdf.css")
    except pdf.PdfUnavailable:
        context = {"application": notice.application}
        return render(request, "applications/id_notice_pdf_unavailable.html", context, status=503)
    services.application_id_notice_downloaded(application=notice.application, actor=request.user)
    response = HttpResponse(document, content_type="application/pdf")
    filename = f"id-notice-{notice.application.reception_number}.pdf"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response
