"""SPEC §1: the approver / supervisor manages staff accounts. Names from applications/roles.py."""

from django.db import migrations

from applications.roles import APPROVER, MANAGE_STAFF, PERMISSIONS


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type, _ = ContentType.objects.get_or_create(app_label="applications", model="user")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename=MANAGE_STAFF,
        defaults={"name": PERMISSIONS[MANAGE_STAFF][1]},
    )
    group, _ = Group.objects.get_or_create(name=APPROVER)
    group.permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=APPROVER):
        group.permissions.remove(*group.permissions.filter(codename=MANAGE_STAFF))


class Migration(migrations.Migration):
    dependencies = [("applications", "0006_manage_staff_permission")]

    operations = [migrations.RunPython(grant, revoke)]
