"""Reference data: the processing methods NACCS offers today. More (メール処理方式, ebMS…) are added as rows."""

from django.db import migrations

METHODS = [
    ("interactive", "インタラクティブ処理方式", 10),
    ("netnaccs", "netNACCS", 20),
]


def add_methods(apps, schema_editor):
    ProcessingMethod = apps.get_model("applications", "ProcessingMethod")
    for code, name, order in METHODS:
        ProcessingMethod.objects.update_or_create(code=code, defaults={"name": name, "sort_order": order})


def remove_methods(apps, schema_editor):
    ProcessingMethod = apps.get_model("applications", "ProcessingMethod")
    ProcessingMethod.objects.filter(code__in=[code for code, _, _ in METHODS], contracts__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("applications", "0001_initial")]

    operations = [migrations.RunPython(add_methods, remove_methods)]
