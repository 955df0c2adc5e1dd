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

from applications import audit, clock, enrolment, rules, workflow
from applications.identifiers import USER_CODE_RE
from applications.models import (
    OPEN_STATUSES,
    Application,
    ApplicationItem,
    ApplicationStatus,
    Contract,
    EnrolmentPurpose,
    InternalNote,
    NaccsUserId,
    ProcessingMethod,
    User,
    desired_date_expression,
)
from applications.reception_numbers import reception_number_typed
from applications.roles import ROLE_LABELS, STAFF_ROLES, role_of

from .permissions import (
    PERM_APPROVE,
    PERM_REVIEW,
    four_eyes_refusal,
    permission_refusal,
    progress_notice_refusal,
)

# The queue's default filter: the applications still to be worked on (受付, 内容確認中).
QUEUE_OPEN = "open"
PAGE_SIZE = 50
# A company-name search matching more offices than this is too broad to be useful; narrow it.
MAX_CONTRACTS_PER_SEARCH = 500


# Sorts of the queue (SPEC §8): the key the keyset runs on, and its direction. 利用開始希望日 is the date the
# customer asked for whatever the kind (a removal's 利用終了希望日; models.desired_date_expression), read from the
# database as the annotation DESIRED_DATE so that the cursor holds exactly the value the index is on. One with no
# desired date has NO_DESIRED_DATE there: last by 利用開始希望日, first when the latest come first.
SORT_SUBMITTED = "submitted"
DESIRED_DATE = "queue_desired_date"
SORTS = {
    SORT_SUBMITTED: ("submitted_at", False),
    "-submitted": ("submitted_at", True),
    "start": (DESIRED_DATE, False),
    "-start": (DESIRED_DATE, True),
}
# The sort keys that are expressions rather than fields.
SORT_EXPRESSIONS = {DESIRED_DATE: desired_date_expression}


@dataclass
class QueuePage:
    rows: list[Application]
    next_cursor: str | None
    previous_cursor: str | None = None


@dataclass(frozen=True)
class QueueCounts:
    """The counts at the top of the queue (SPEC §8), each also a filter: open work, whatever else is filtered."""

    submitted: int
    under_review: int
    overdue: int
    mine: int


def _cursor(sort: str, application: Application) -> str:
    field, _descending = SORTS[sort]
    value = getattr(application, field)
    return f"{sort}|{value.isoformat()}|{application.pk}"


def _parse_cursor(value: str, sort: str) -> tuple[datetime.datetime | datetime.date, int] | None:
    """The (value, id) of a cursor we made for this sort; None (first page) for anything else. Instants are
    taken to UTC here, as the database will: an extreme date such as 0001-01-01T00:00+14:00 has no UTC value and
    is refused here instead of overflowing in the query."""
    try:
        cursor_sort, stamp, pk = value.split("|")
        number = int(pk)
        if cursor_sort != sort or not 0 <= number < 2**63:
            return None
        if SORTS[sort][0] == DESIRED_DATE:
            return datetime.date.fromisoformat(stamp), number
        instant = datetime.datetime.fromisoformat(stamp)
        if instant.tzinfo is None:
            return None
        return instant.astimezone(datetime.UTC), number
    except (ValueError, TypeError, OverflowError, KeyError):
        return None


def _statuses(status: str, overdue: bool) -> list[str]:
    statuses = {s for s in ApplicationStatus.values if s != ApplicationStatus.DRAFT}
    if status == QUEUE_OPEN:
        statuses &= set(OPEN_STATUSES)
    elif status:
        statuses &= {status}
    if overdue:
        statuses &= set(OPEN_STATUSES)
    return sorted(statuses)


def queue_filtered(
    *,
    status: str = QUEUE_OPEN,
    method_code: str = "",
    kind: str = "",
    overdue: bool = False,
    mine: User | None = None,
    q: str = "",
    today: datetime.date,
):
    """The applications the queue's filters select, unordered: the queue's pages and its CSV both start here.
    A reception number with a wrong check letter in `q` is refused (DomainError on the field "q")."""
    # One condition on status (a repeated one would make the planner misjudge how many rows match).
    qs = Application.objects.filter(status__in=_statuses(status, overdue))
    if overdue:
        qs = qs.filter(answer_due_on__lt=today)
    if mine is not None:
        qs = qs.filter(reviewer=mine)
    if kind:
        qs = qs.filter(kind=kind)
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
    return qs


def _keyset(qs, sort: str, cursor, *, backwards: bool):
    """Rows after (or, `backwards`, before) the cursor in the sort's order, and the order to read them in."""
    field, descending = SORTS[sort]
    forwards = descending == backwards  # ascending order in the database when reading "up" the index
    if field in SORT_EXPRESSIONS:
        qs = qs.annotate(**{field: SORT_EXPRESSIONS[field]()})
    if cursor:
        value, pk = cursor
        beyond, strictly = ("gte", "gt") if forwards else ("lte", "lt")
        # (field, id) beyond (value, pk), written so that the first condition is an index range by itself.
        qs = qs.filter(**{f"{field}__{beyond}": value}).filter(
            Q(**{f"{field}__{strictly}": value}) | Q(**{f"pk__{strictly}": pk})
        )
    order = (field, "pk") if forwards else (f"-{field}", "-pk")
    return qs.order_by(*order)


def _method_counts(application_ids: list[int]) -> dict[int, list[tuple[str, int]]]:
    """For each application, the processing methods of its IDs with how many of each, in the order they were
    asked (「インタラクティブ処理方式 ×2、netNACCS ×1」): one query of three columns per page, no item instances
    (a listing shows nothing else of them; a prefetch of instances was about half of this selector's time)."""
    counts: dict[int, dict[str, int]] = {pk: {} for pk in application_ids}
    items = (
        ApplicationItem.objects.filter(application_id__in=application_ids)
        .order_by("id")
        .values_list("application_id", "processing_method__name", "processing_method__name_en")
    )
    for application_id, name, name_en in items:
        label = ProcessingMethod.label_of(name, name_en)
        counts[application_id][label] = counts[application_id].get(label, 0) + 1
    return {pk: list(methods.items()) for pk, methods in counts.items()}


def application_queue(
    *,
    status: str = QUEUE_OPEN,
    method_code: str = "",
    kind: str = "",
    overdue: bool = False,
    mine: User | None = None,
    q: str = "",
    sort: str = SORT_SUBMITTED,
    after: str = "",
    before: str = "",
    today: datetime.date,
    limit: int = PAGE_SIZE,
) -> QueuePage:
    """Submitted applications, oldest first by default (SPEC §4), filtered and sorted (SPEC §8). `after` is the
    cursor of the previous page's last row, `before` the next page's first: keyset pages, no COUNT, no OFFSET."""
    sort = sort if sort in SORTS else SORT_SUBMITTED
    qs = queue_filtered(
        status=status, method_code=method_code, kind=kind, overdue=overdue, mine=mine, q=q, today=today
    )
    backwards = bool(before) and not after
    cursor = _parse_cursor(before if backwards else after, sort) if (before or after) else None
    backwards = backwards and cursor is not None
    rows = list(
        _keyset(qs, sort, cursor, backwards=backwards)
        .select_related("contract", "reviewer")
        # The row shows the holder's name, never their password hash.
        .defer("reviewer__password")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    near_limit = rules.start_date_warning_limit(today)
    # Only what a row shows of its IDs (their processing methods): no 利用者ID rows, whose credentials a
    # listing has no business loading.
    method_counts = _method_counts([row.pk for row in rows])
    for row in rows:
        row.is_overdue = row.is_overdue_on(today)
        row.is_start_date_near = rules.is_start_date_near(row, today, limit=near_limit)
        # 選択した申込を担当する offers a row exactly when the status flow lets it be taken.
        row.can_be_taken = workflow.can_transition(row.status, ApplicationStatus.UNDER_REVIEW)
        row.method_counts = method_counts[row.pk]
    if not rows:
        return QueuePage(rows=[], next_cursor=None, previous_cursor=None)
    has_next = more if not backwards else True
    has_previous = (cursor is not None) if not backwards else more
    return QueuePage(
        rows=rows,
        next_cursor=_cursor(sort, rows[-1]) if has_next else None,
        previous_cursor=_cursor(sort, rows[0]) if has_previous else None,
    )


def queue_counts(*, actor: User, today: datetime.date) -> QueueCounts:
    """受付, 内容確認中, 回答予定日超過 and 自分の担当 among the open applications, in one query (an index-only scan
    of application_open_counts)."""
    figures = Application.objects.filter(status__in=list(OPEN_STATUSES)).aggregate(
        # Counting indexed columns (not the id) lets PostgreSQL answer from the index alone.
        submitted=Count("status", filter=Q(status=ApplicationStatus.SUBMITTED)),
        under_review=Count("status", filter=Q(status=ApplicationStatus.UNDER_REVIEW)),
        overdue=Count("answer_due_on", filter=Q(answer_due_on__lt=today)),
        mine=Count("reviewer", filter=Q(reviewer=actor)),
    )
    return QueueCounts(**figures)


def queue_export_rows(*, batch: int = 1000, **filters):
    """Every application the queue's filters select, in the queue's order (its sort), read in keyset batches so
    an export of any size holds one batch in memory: the CSV出力 of SPEC §8."""
    after = ""
    while True:
        page = application_queue(after=after, limit=batch, **filters)
        yield from page.rows
        if not page.next_cursor:
            return
        after = page.next_cursor


def _search(raw: str) -> Q:
    """A reception number (with or without its check letter) or a 利用者コード exactly (case- and
    width-insensitive), or part of a company or office name."""
    text = unicodedata.normalize("NFKC", raw).strip()
    upper = text.upper()
    number = reception_number_typed(upper)
    if number is not None:
        return Q(reception_number=number)
    by_name = Q(company_name__icontains=text) | Q(office_name__icontains=text)
    contracts = Contract.objects.filter(by_name)
    if USER_CODE_RE.fullmatch(upper):
        contracts = Contract.objects.filter(Q(user_code=upper) | by_name)
    contract_ids = list(contracts.values_list("pk", flat=True)[:MAX_CONTRACTS_PER_SEARCH])
    return Q(contract_id__in=contract_ids)


def application_for_staff(*, application_id: int) -> Application:
    """One application with everything the staff detail page shows (drafts are invisible to staff)."""
    return get_object_or_404(
        Application.objects.exclude(status=ApplicationStatus.DRAFT)
        .select_related("contract", "reviewer", "decided_by", "created_by")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=ApplicationItem.objects.select_related("processing_method", "target").order_by("id"),
            ),
            Prefetch("notices"),
            Prefetch("internal_notes", queryset=InternalNote.objects.select_related("author")),
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
    note: bool = False
    release: bool = False
    reassign: bool = False
    change_start_date: bool = False
    approve_refusal: str | None = None
    review_closed: bool = False
    held_by: str = ""

    @property
    def decide(self) -> bool:
        """A decision is open to this staff member: approve, reject, or a reason why not approve."""
        return self.approve or self.reject or self.approve_refusal is not None


def application_actions(
    *, application: Application, actor: User, today: datetime.date | None = None
) -> ApplicationActions:
    """The actions of the staff application page for `actor`, by the rules the services enforce: the staff
    permission (reviews/permissions.py), the status flow (applications/workflow.py), who holds it and, for
    approval and the start-date correction, the four-eyes rule on the actor's role and on who took it."""
    closed = not workflow.ALLOWED_TRANSITIONS.get(application.status)
    if permission_refusal(actor, PERM_REVIEW):
        return ApplicationActions(review_closed=closed)
    today = today or clock.today()
    status = application.status
    under_review = status == ApplicationStatus.UNDER_REVIEW
    held_by_other = under_review and application.reviewer_id not in (None, actor.pk)
    is_approver = permission_refusal(actor, PERM_APPROVE) is None
    four_eyes = four_eyes_refusal(application, actor)
    approve, approve_refusal = False, None
    if workflow.can_transition(status, ApplicationStatus.APPROVED):
        if four_eyes is None:
            approve = True
        else:
            approve_refusal = four_eyes.message
    return ApplicationActions(
        take=workflow.can_transition(status, ApplicationStatus.UNDER_REVIEW),
        approve=approve,
        reject=workflow.can_transition(status, ApplicationStatus.REJECTED),
        notice=progress_notice_refusal(application) is None,
        note=True,
        release=under_review and (not held_by_other or is_approver),
        reassign=is_approver and status in OPEN_STATUSES,
        change_start_date=(
            status == ApplicationStatus.APPROVED
            and four_eyes is None
            and application.start_date is not None
            and application.start_date > today
        ),
        approve_refusal=approve_refusal,
        review_closed=closed,
        held_by=application.reviewer.get_username() if held_by_other else "",
    )


def assignable_staff():
    """Staff who can be given an application (担当者を変更): active, enrolled, with the review permission."""
    return (
        staff_accounts()
        .filter(is_active=True, enrolled=True, groups__name__in=list(STAFF_ROLES))
        .distinct()
        .order_by("username")
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
