"""SPEC §11: contracts are managed in the staff workplace; the approver role may do it. Names from
applications/roles.py."""

from django.db import migrations

from applications.roles import APPROVER, MANAGE_CONTRACTS, PERMISSIONS


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type, _ = ContentType.objects.get_or_create(app_label="applications", model="contract")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename=MANAGE_CONTRACTS,
        defaults={"name": PERMISSIONS[MANAGE_CONTRACTS][1]},
    )
    group, _ = Group.objects.get_or_create(name=APPROVER)
    group.permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name=APPROVER):
        group.permissions.remove(*group.permissions.filter(codename=MANAGE_CONTRACTS))


class Migration(migrations.Migration):
    dependencies = [("applications", "0009_password_reset_purpose")]

    operations = [
        migrations.AlterModelOptions(
            name="contract",
            options={
                "ordering": ["user_code"],
                "permissions": [(MANAGE_CONTRACTS, PERMISSIONS[MANAGE_CONTRACTS][1])],
                "verbose_name": "契約",
                "verbose_name_plural": "契約",
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
