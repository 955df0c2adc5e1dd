"""The status flow of an application (SPEC §4), as data.

Services ask `transition()` to move an application; nothing else assigns `status`. 利用開始 is not a stored
status: it is derived from the confirmed start date (`applications/models.py` `start_date_reached`).
"""

from django.utils.translation import gettext as _

from .exceptions import IllegalTransition
from .models import Application, ApplicationStatus

S = ApplicationStatus

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED}),
    S.SUBMITTED: frozenset({S.UNDER_REVIEW, S.WITHDRAWN}),
    # Back to 受付: 「担当を外す」 (SPEC §8).
    S.UNDER_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.SUBMITTED}),
    S.APPROVED: frozenset(),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
}


def can_transition(current: str, target: str) -> bool:
    return target in ALLOWED_TRANSITIONS.get(current, frozenset())


def transition(application: Application, target: str) -> str:
    """Set the new status on the (locked) row; the caller saves it in its own transaction. Returns the old one."""
    current = application.status
    if not can_transition(current, target):
        raise IllegalTransition(
            _("この申込は「%(current)s」のため「%(target)s」にできません。")
            % {"current": S(current).label, "target": S(target).label},
            code="illegal_transition",
        )
    application.status = target
    return current
