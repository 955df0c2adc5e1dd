"""Demo data for `make run` (idempotent: running it twice leaves the same data).

Office 1ANAC (デモ通関株式会社 東京事業所) with インタラクティブ and netNACCS and the IDs 1ANACA0A, 1ANACY27, 1ANACG01;
the customer demo-customer / demo-customer-pass. A second office 2BDEF (第二通関株式会社) with its own customer, so
that tenancy can be tried by hand. These passwords are for the local demo only and printed in the README.
"""

import base64
import datetime
import importlib

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from applications import passwords
from applications.models import Contract, NaccsUserId, ProcessingMethod, User
from applications.roles import APPROVER, REVIEWER
from applications.services import staff_role_group_ensure

OFFICES = [
    {
        "user_code": "1ANAC",
        "company_name": "デモ通関株式会社",
        "office_name": "東京事業所",
        "department": "通関部",
        "address": "東京都港区港南一丁目1番1号",
        "methods": ["interactive", "netnaccs"],
        # (識別番号, processing method, 通関士ID?, UTB password — already changed from the initial one)
        "ids": [
            ("A0A", "interactive", True, "TSUKAN01"),
            ("Y27", "netnaccs", True, "TSUKAN02"),
            ("G01", "interactive", False, "GENERAL1"),
        ],
        "customer": (
            "demo-customer",
            "demo-customer-pass",
            "山田 花子",
            "通関部",
            "03-1234-5678",
            "demo-customer@example.com",
        ),
    },
    {
        "user_code": "2BDEF",
        "company_name": "第二通関株式会社",
        "office_name": "大阪事業所",
        "department": "業務部",
        "address": "大阪府大阪市港区築港一丁目1番1号",
        "methods": ["interactive"],
        "ids": [("B01", "interactive", True, "TSUKAN03")],
        "customer": (
            "demo-customer-2",
            "demo-customer-2-pass",
            "大阪 次郎",
            "業務部",
            "06-1234-5678",
            "demo-customer-2@example.com",
        ),
    },
]

DEMO_ID_START = datetime.date(2026, 4, 1)

# NACCS centre staff: (username, password, role, TOTP key as hex). The keys are public demo values printed in the
# README (base32 for authenticator apps); `manage.py demo_totp <username>` prints the current code.
STAFF = [
    ("demo-reviewer", "demo-reviewer-pass", REVIEWER, "3132333435363738393031323334353637383930"),
    ("demo-approver", "demo-approver-pass", APPROVER, "4e53534150505256455244454d4f4b4559303031"),
]


def totp_base32(hex_key: str) -> str:
    return base64.b32encode(bytes.fromhex(hex_key)).decode()


def refuse_in_production(command: BaseCommand) -> None:
    """Demo data (known passwords and TOTP secrets) can never be loaded into, or read from, a production system."""
    if settings.PRODUCTION:
        raise CommandError(
            f"{command.__module__.rsplit('.', 1)[-1]} is for the local demo only and refuses to run with "
            "DJANGO_PRODUCTION=true."
        )


class Command(BaseCommand):
    help = "Load the demo offices, contracts, IDs and customer accounts (idempotent)."

    def handle(self, *args, **options):
        refuse_in_production(self)  # before the database is touched at all
        self._load()

    @transaction.atomic
    def _load(self):
        # The processing methods are reference data from migration 0002; make sure they are there (a flushed
        # test database, an operator who emptied the table) rather than fail half-way.
        for code, name, order in importlib.import_module(
            "applications.migrations.0002_processing_methods"
        ).METHODS:
            ProcessingMethod.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
        methods = {m.code: m for m in ProcessingMethod.objects.all()}
        for office in OFFICES:
            contract, _ = Contract.objects.update_or_create(
                user_code=office["user_code"],
                defaults={
                    key: office[key] for key in ("company_name", "office_name", "department", "address")
                },
            )
            contract.processing_methods.set([methods[code] for code in office["methods"]])
            for identifier, method, is_broker, utb_password in office["ids"]:
                naccs_id, _ = NaccsUserId.objects.update_or_create(
                    contract=contract,
                    identifier=identifier,
                    defaults={
                        "processing_method": methods[method],
                        "is_customs_broker": is_broker,
                        "start_date": DEMO_ID_START,
                        "revoked_at": None,
                    },
                )
                if not passwords.check_naccs_password(utb_password, naccs_id.password_hash):
                    naccs_id.password_hash = passwords.hash_naccs_password(utb_password)
                    naccs_id.password_changed_at = naccs_id.password_changed_at or timezone.now()
                    naccs_id.save(update_fields=["password_hash", "password_changed_at"])
            username, password, full_name, department, phone, email = office["customer"]
            user, _ = User.objects.update_or_create(
                username=username,
                defaults={
                    "contract": contract,
                    "full_name": full_name,
                    "department": department,
                    "phone": phone,
                    "email": email,
                    "is_staff": False,
                    "is_superuser": False,
                },
            )
            if not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
        for username, password, role, key in STAFF:
            staff, _ = User.objects.update_or_create(
                username=username,
                defaults={"contract": None, "is_staff": True, "is_superuser": False, "email": ""},
            )
            if not staff.check_password(password):
                staff.set_password(password)
                staff.save(update_fields=["password"])
            staff.groups.set([staff_role_group_ensure(role=role)])
            TOTPDevice.objects.update_or_create(
                user=staff, name="demo", defaults={"key": key, "confirmed": True, "step": 30, "digits": 6}
            )
        self.stdout.write(self.style.SUCCESS("demo data loaded: 1ANAC demo-customer, 2BDEF demo-customer-2"))
        for username, _password, role, key in STAFF:
            self.stdout.write(f"  staff {username} ({role}): TOTP secret {totp_base32(key)}")
