"""Reads of the staff workplace. The queue uses keyset pagination (no COUNT, no OFFSET) over indexed columns so
the first and every later page stay fast with millions of applications."""

import datetime
import unicodedata
from dataclasses import dataclass

from auditlog.models import LogEntry
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.contenttypes.models import ContentType
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Prefetch, Q
from django.shortcuts import get_object_or_404
from django_otp.plugins.otp_totp.models import TOTPDevice

from applications import audit, enrolment, workflow
from applications.identifiers import USER_CODE_RE
from applications.models import (
    OPEN_STATUSES,
    Application,
    ApplicationItem,
    ApplicationStatus,
    Contract,
    EnrolmentPurpose,
    NaccsUserId,
    User,
)
from applications.reception_numbers import reception_number_typed
from applications.roles import ROLE_LABELS, role_of

from .permissions import PERM_REVIEW, four_eyes_refusal, permission_refusal, progress_notice_refusal

# The queue's default filter: the applications still to be worked on (受付, 内容確認中).
QUEUE_OPEN = "open"
PAGE_SIZE = 50
# A company-name search matching more offices than this is too broad to be useful; narrow it.
MAX_CONTRACTS_PER_SEARCH = 500


@dataclass
class QueuePage:
    rows: list[Application]
    next_cursor: str | None


def _cursor(application: Application) -> str:
    return f"{application.submitted_at.isoformat()}|{application.pk}"


def _parse_cursor(value: str) -> tuple[datetime.datetime, int] | None:
    """The (submitted_at, id) of a cursor we made; None (first page) for anything else. Our cursors always carry
    their offset. The instant is taken to UTC here, as the database will: an extreme date such as
    0001-01-01T00:00+14:00 has no UTC value and is refused here instead of overflowing in the query."""
    try:
        stamp, pk = value.rsplit("|", 1)
        instant, number = datetime.datetime.fromisoformat(stamp), int(pk)
        if instant.tzinfo is None or not 0 <= number < 2**63:
            return None
        return instant.astimezone(datetime.UTC), number
    except (ValueError, TypeError, OverflowError):
        return None


def application_queue(
    *,
    status: str = QUEUE_OPEN,
    method_code: str = "",
    overdue: bool = False,
    q: str = "",
    after: str = "",
    today: datetime.date,
    limit: int = PAGE_SIZE,
) -> QueuePage:
    """Submitted applications, oldest first (SPEC §4), filtered; `after` is the cursor of the previous page. A
    reception number with a wrong check letter in `q` is refused (DomainError on the field "q")."""
    statuses = {s for s in ApplicationStatus.values if s != ApplicationStatus.DRAFT}
    if status == QUEUE_OPEN:
        statuses &= set(OPEN_STATUSES)
    elif status:
        statuses &= {status}
    if overdue:
        statuses &= set(OPEN_STATUSES)
    # One condition on status (a repeated one would make the planner misjudge how many rows match).
    qs = Application.objects.filter(status__in=sorted(statuses))
    if overdue:
        qs = qs.filter(answer_due_on__lt=today)
    if method_code:
        qs = qs.filter(
            Exists(
                ApplicationItem.objects.filter(
                    application=OuterRef("pk"), processing_method__code=method_code
                )
            )
        )
    if q:
        qs = qs.filter(_search(q))
    cursor = _parse_cursor(after) if after else None
    if cursor:
        stamp, pk = cursor
        # (submitted_at, id) > (stamp, pk), written so that the first condition is an index range by itself.
        qs = qs.filter(submitted_at__gte=stamp).filter(Q(submitted_at__gt=stamp) | Q(pk__gt=pk))
    rows = list(
        qs.select_related("contract", "reviewer")
        .prefetch_related(
            Prefetch(
                "items", queryset=ApplicationItem.objects.select_related("processing_method").order_by("id")
            )
        )
        .order_by("submitted_at", "pk")[: limit + 1]
    )
    next_cursor = _cursor(rows[limit - 1]) if len(rows) > limit else None
    rows = rows[:limit]
    for row in rows:
        row.is_overdue = row.is_overdue_on(today)
    return QueuePage(rows=rows, next_cursor=next_cursor)


def _search(raw: str) -> Q:
    """A reception number (with or without its check letter) or a 利用者コード exactly (case- and
    width-insensitive), or part of a company name."""
    text = unicodedata.normalize("NFKC", raw).strip()
    upper = text.upper()
    number = reception_number_typed(upper)
    if number is not None:
        return Q(reception_number=number)
    contracts = Contract.objects.filter(company_name__icontains=text)
    if USER_CODE_RE.fullmatch(upper):
        contracts = Contract.objects.filter(Q(user_code=upper) | Q(company_name__icontains=text))
    contract_ids = list(contracts.values_list("pk", flat=True)[:MAX_CONTRACTS_PER_SEARCH])
    return Q(contract_id__in=contract_ids)


def application_for_staff(*, application_id: int) -> Application:
    """One application with everything the staff detail page shows (drafts are invisible to staff)."""
    return get_object_or_404(
        Application.objects.exclude(status=ApplicationStatus.DRAFT)
        .select_related("contract", "reviewer", "decided_by", "created_by")
        .prefetch_related(
            Prefetch(
                "items", queryset=ApplicationItem.objects.select_related("processing_method").order_by("id")
            ),
            Prefetch("notices"),
            Prefetch(
                "issued_ids",
                queryset=NaccsUserId.objects.select_related("processing_method", "contract").order_by(
                    "identifier"
                ),
            ),
        ),
        pk=application_id,
    )


@dataclass(frozen=True)
class ApplicationActions:
    """What the staff member looking at an application may do with it now: the page offers exactly these.

    `approve_refusal` is why approval is not offered while the application waits for a decision (the four-eyes
    rule), so the page can say so instead of offering a button that could only be refused."""

    take: bool = False
    approve: bool = False
    reject: bool = False
    notice: bool = False
    approve_refusal: str | None = None
    review_closed: bool = False

    @property
    def decide(self) -> bool:
        """A decision is open to this staff member: approve, reject, or a reason why not approve."""
        return self.approve or self.reject or self.approve_refusal is not None


def application_actions(*, application: Application, actor: User) -> ApplicationActions:
    """The actions of the staff application page for `actor`, by the rules the services enforce: the staff
    permission (reviews/permissions.py), the status flow (applications/workflow.py) and, for approval, the
    four-eyes rule on the actor's role and on who took the application."""
    closed = not workflow.ALLOWED_TRANSITIONS.get(application.status)
    if permission_refusal(actor, PERM_REVIEW):
        return ApplicationActions(review_closed=closed)
    approve, approve_refusal = False, None
    if workflow.can_transition(application.status, ApplicationStatus.APPROVED):
        refusal = four_eyes_refusal(application, actor)
        if refusal is None:
            approve = True
        else:
            approve_refusal = refusal.message
    return ApplicationActions(
        take=workflow.can_transition(application.status, ApplicationStatus.UNDER_REVIEW),
        approve=approve,
        reject=workflow.can_transition(application.status, ApplicationStatus.REJECTED),
        notice=progress_notice_refusal(application) is None,
        approve_refusal=approve_refusal,
        review_closed=closed,
    )


def _audit_entries(instance) -> list[LogEntry]:
    """Every audit entry of `instance`, oldest first, with the actor, the action's label and its `lines`
    (audit.entry_lines), in two queries at most however many entries there are."""
    entries = list(
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(instance), object_id=instance.pk
        )
        .select_related("actor")
        .order_by("timestamp", "pk")
    )
    for entry, lines in zip(entries, audit.trail_lines(entries), strict=True):
        entry.action_label = audit.action_label(entry)
        entry.lines = lines
    return entries


def audit_trail(*, application: Application) -> list[LogEntry]:
    """Every audit entry of the application, oldest first, with the actor."""
    return _audit_entries(application)


# Staff accounts ----------------------------------------------------------------------------------------------


def staff_accounts():
    """Every staff account, with `enrolled`: the one rule of SPEC §10 for "can log in" — its own usable password
    and a confirmed authenticator (until then the account can do nothing)."""
    confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return User.objects.filter(is_staff=True).annotate(
        enrolled=ExpressionWrapper(
            Exists(confirmed) & ~Q(password__startswith=UNUSABLE_PASSWORD_PREFIX), output_field=BooleanField()
        )
    )


def staff_account_list() -> list[User]:
    """スタッフアカウント: every staff account by user ID, each with `role`, its `role_label` ("" for none) and
    `enrolled`, in two queries however many there are."""
    accounts = list(staff_accounts().prefetch_related("groups").order_by("username"))
    for account in accounts:
        account.role = role_of(account)
        account.role_label = ROLE_LABELS.get(account.role, "")
    return accounts


def staff_account_get(*, account_id: int) -> User:
    """One staff account (404 for any other user) with `role`, `enrolled` and `pending_link`: its open enrolment
    link (sent, and neither used, voided nor expired), or None."""
    account = get_object_or_404(staff_accounts().prefetch_related("groups"), pk=account_id)
    account.role = role_of(account)
    account.pending_link = enrolment.token_pending(user=account, purpose=EnrolmentPurpose.STAFF_ENROLMENT)
    return account


# Contracts (SPEC §11) ---------------------------------------------------------------------------------------------

CONTRACT_PAGE_SIZE = 50


@dataclass
class ContractPage:
    rows: list[Contract]
    next_after: str | None


def contract_list(*, q: str = "", after: str = "", limit: int = CONTRACT_PAGE_SIZE) -> ContractPage:
    """契約一覧: by 利用者コード, keyset pages (`after` is the last code of the previous page); `q` finds a 利用者コード
    exactly or part of a company or office name (width- and case-insensitive)."""
    qs = Contract.objects.annotate(
        id_count=Count("naccs_user_ids", distinct=True),
        account_count=Count("users", filter=Q(users__is_staff=False), distinct=True),
    )
    text = unicodedata.normalize("NFKC", q).strip()
    if text:
        qs = qs.filter(
            Q(user_code=text.upper()) | Q(company_name__icontains=text) | Q(office_name__icontains=text)
        )
    if after:
        qs = qs.filter(user_code__gt=unicodedata.normalize("NFKC", after).strip().upper()[:5])
    rows = list(qs.order_by("user_code")[: limit + 1])
    next_after = rows[limit - 1].user_code if len(rows) > limit else None
    return ContractPage(rows=rows[:limit], next_after=next_after)


def contract_for_staff(*, contract_id: int) -> Contract:
    """One contract (404 otherwise) with its processing methods and its 利用者IDs (broker flag, method, start date,
    revoked), in a fixed number of queries; its customer accounts: applications.selectors.office_accounts."""
    return get_object_or_404(
        Contract.objects.prefetch_related(
            "processing_methods",
            Prefetch(
                "naccs_user_ids",
                queryset=NaccsUserId.objects.select_related("processing_method", "contract").order_by(
                    "identifier"
                ),
            ),
        ),
        pk=contract_id,
    )


def contract_audit_trail(*, contract: Contract) -> list[LogEntry]:
    """Every audit entry of the contract (registered, changed, imported), oldest first."""
    return _audit_entries(contract)
