"""Staff roles (SPEC §1, §4) as groups: 審査担当 reviewer and 承認者 approver.

Names, codenames and permission names come from applications/roles.py (plain constants, no models). Which
permissions each role got here is this migration's own history: 0007 later gave approvers manage_staff, and
roles.STAFF_ROLES is the list as it stands now."""

from django.db import migrations

from applications.roles import APPROVE_APPLICATION, APPROVER, PERMISSIONS, REVIEW_APPLICATION, REVIEWER

ROLES = {
    REVIEWER: [REVIEW_APPLICATION],
    APPROVER: [REVIEW_APPLICATION, APPROVE_APPLICATION],
}


def add_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type, _ = ContentType.objects.get_or_create(app_label="applications", model="application")
    for role, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        for codename in codenames:
            permission, _ = Permission.objects.get_or_create(
                content_type=content_type, codename=codename, defaults={"name": PERMISSIONS[codename][1]}
            )
            group.permissions.add(permission)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0003_review_and_issuance"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(add_roles, remove_roles)]
