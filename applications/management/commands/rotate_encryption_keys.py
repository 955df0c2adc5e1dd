"""Re-encrypt every stored secret with the newest key of NSS_ENCRYPTION_KEYS (see applications/crypto.py).

Safe to run while the portal serves: each batch is its own transaction and a value encrypted with any configured key
stays readable throughout. Run it after deploying NSS_ENCRYPTION_KEYS="<new>,<old>", then drop <old>."""

from django.core.management.base import BaseCommand
from django.db import transaction

from applications import crypto
from applications.models import NaccsUserId

BATCH = 500


class Command(BaseCommand):
    help = "Re-encrypt stored initial passwords with the newest encryption key."

    def handle(self, *args, **options):
        rotated = 0
        last_pk = 0
        while True:
            with transaction.atomic():
                batch = list(
                    NaccsUserId.objects.select_for_update(no_key=True)
                    .filter(pk__gt=last_pk)
                    .exclude(initial_password_encrypted="")
                    .order_by("pk")[:BATCH]
                )
                if not batch:
                    break
                for naccs_id in batch:
                    naccs_id.initial_password_encrypted = crypto.rotate(naccs_id.initial_password_encrypted)
                NaccsUserId.objects.bulk_update(batch, ["initial_password_encrypted"])
            rotated += len(batch)
            last_pk = batch[-1].pk
        self.stdout.write(self.style.SUCCESS(f"re-encrypted {rotated} stored secrets with the newest key"))
