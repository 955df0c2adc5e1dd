"""Who may do what in the staff workplace: the view decorator, and the rules on the acting staff member that the
services enforce and the page's available actions (reviews/selectors.py) show. Each rule answers with the refusal
(a DomainError the service raises) or None, so a button is offered exactly when its service would let it through."""

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from applications.exceptions import DomainError, IllegalTransition
from applications.models import Application, ApplicationStatus, User
from applications.roles import (
    APPROVE_APPLICATION,
    MANAGE_CONTRACTS,
    MANAGE_STAFF,
    REVIEW_APPLICATION,
    permission_name,
)

PERM_REVIEW = permission_name(REVIEW_APPLICATION)
PERM_APPROVE = permission_name(APPROVE_APPLICATION)
PERM_MANAGE_STAFF = permission_name(MANAGE_STAFF)
PERM_MANAGE_CONTRACTS = permission_name(MANAGE_CONTRACTS)


def staff_required(permission: str):
    """A NACCS centre staff member, logged in with the second factor (TOTP), holding `permission`.

    Anonymous, or staff without the verified second factor → the staff login. A customer account → 403: it is
    authenticated but never staff (SPEC §4). Staff without the permission → 403.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated or (user.is_staff and not user.is_verified()):
                return redirect(f"{reverse('reviews:login')}?{urlencode({'next': request.get_full_path()})}")
            if not user.is_staff or not user.has_perm(permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def permission_refusal(actor: User, permission: str) -> DomainError | None:
    """An active staff member holding `permission` may act; anyone else is refused."""
    if actor.is_active and actor.is_staff and actor.has_perm(permission):
        return None
    return DomainError(_("この操作を行う権限がありません。"), code="permission_denied")


def four_eyes_refusal(application: Application, actor: User) -> DomainError | None:
    """With NSS_FOUR_EYES on, only an approver approves, and never the staff member who took the application."""
    if not settings.NSS_FOUR_EYES:
        return None
    if not actor.has_perm(PERM_APPROVE):
        return DomainError(_("承認には承認者の権限が必要です（4つの目の原則）。"), code="four_eyes_role")
    if application.reviewer_id == actor.pk:
        return DomainError(
            _(
                "この申込を担当した審査担当者は承認できません。別の承認者が承認してください（4つの目の原則）。"
            ),
            code="four_eyes_same_person",
        )
    return None


def progress_notice_refusal(application: Application) -> DomainError | None:
    """A 進行状況 notice goes on any submitted application, whatever its state since; never on a draft."""
    if application.status == ApplicationStatus.DRAFT:
        return IllegalTransition(_("作成中の申込には通知できません。"), code="draft")
    return None
