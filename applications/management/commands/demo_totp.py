"""Print the current TOTP code of a demo staff account, for trying the staff login locally without a phone.

Refuses any account that is not one of the demo accounts of `load_demo`."""

import time

from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp

from .load_demo import STAFF, refuse_in_production


class Command(BaseCommand):
    help = "Print the current 6-digit TOTP code of a demo staff account (demo-reviewer, demo-approver)."

    def add_arguments(self, parser):
        parser.add_argument("username", choices=[username for username, *_ in STAFF])

    def handle(self, *args, username, **options):
        refuse_in_production(self)
        key = next((key for name, _p, _r, key in STAFF if name == username), None)
        if key is None:  # pragma: no cover - argparse choices already refuse it
            raise CommandError("not a demo account")
        code = totp(bytes.fromhex(key), step=30, t0=0, digits=6)
        self.stdout.write(f"{code:06d}  (valid for {30 - int(time.time()) % 30} s)")
