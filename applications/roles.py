"""Staff roles and the permissions each grants (codenames of the applications app). Migrations 0004 and 0007 made
them as groups; this is the one list code and tests use to (re)create them."""

STAFF_ROLES: dict[str, list[str]] = {
    # 審査担当: take, check, approve (when four-eyes is off) or reject, post notices.
    "reviewer": ["review_application"],
    # 承認者: everything a reviewer does, the second pair of eyes, and staff accounts (SPEC §1).
    "approver": ["review_application", "approve_application", "manage_staff"],
}


def role_of(user) -> str | None:
    """The staff member's role (the stronger one if in both); uses prefetched groups when there are any."""
    names = {group.name for group in user.groups.all()}
    return next((role for role in ("approver", "reviewer") if role in names), None)
