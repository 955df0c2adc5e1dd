"""Staff roles, the permissions each grants and their labels: the one reference list of them (SPEC §1, §4).

Plain constants with no model imports, so that migrations can import it: 0004 and 0007 made the groups from these
names. The models' Meta.permissions, the demo data (load_demo), the test factories, the staff-account form and the
review services all read them from here.
"""

from django.utils.translation import gettext_lazy as _

REVIEWER = "reviewer"
APPROVER = "approver"

# Permission codenames of the applications app: the model that declares each (Meta.permissions) and its name.
REVIEW_APPLICATION = "review_application"
APPROVE_APPLICATION = "approve_application"
MANAGE_STAFF = "manage_staff"
MANAGE_CONTRACTS = "manage_contracts"
PERMISSIONS: dict[str, tuple[str, str]] = {
    REVIEW_APPLICATION: ("application", "Can take, review, reject and post notices on applications"),
    APPROVE_APPLICATION: (
        "application",
        "Can approve applications (second pair of eyes when four-eyes is on)",
    ),
    MANAGE_STAFF: ("user", "Can manage NACCS centre staff accounts"),
    MANAGE_CONTRACTS: (
        "contract",
        "Can register and edit contracts (offices) and see their IDs and accounts",
    ),
}

STAFF_ROLES: dict[str, list[str]] = {
    # 審査担当: take, check, approve (when four-eyes is off) or reject, post notices.
    REVIEWER: [REVIEW_APPLICATION],
    # 承認者: everything a reviewer does, the second pair of eyes, staff accounts (SPEC §1) and contracts (§11).
    APPROVER: [REVIEW_APPLICATION, APPROVE_APPLICATION, MANAGE_STAFF, MANAGE_CONTRACTS],
}
# As the staff read them (the staff-account form), in the order offered.
ROLE_LABELS = {REVIEWER: _("審査担当者"), APPROVER: _("承認者")}


def permission_name(codename: str) -> str:
    """The "app_label.codename" that has_perm() and staff_required() take."""
    return f"applications.{codename}"


def model_permissions(model: str) -> list[tuple[str, str]]:
    """(codename, name) of the permissions `model` declares, for its Meta.permissions."""
    return [(codename, name) for codename, (owner, name) in PERMISSIONS.items() if owner == model]


def role_of(user) -> str | None:
    """The staff member's role (the stronger one if in both); uses prefetched groups when there are any."""
    names = {group.name for group in user.groups.all()}
    return next((role for role in (APPROVER, REVIEWER) if role in names), None)
