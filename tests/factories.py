"""Model factories for every test module (factory_boy), the staff-role helpers built on them, and the suite's
fixed moment in time."""

import base64
import datetime
import importlib
import re

import factory
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.color import no_style
from django.db import connection
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from applications import clock, rules
from applications.identifier_allocation import allocation_order
from applications.models import (
    Application,
    ApplicationItem,
    ApplicationKind,
    ApplicationStatus,
    Contract,
    NaccsUserId,
    ProcessingMethod,
    ReceptionNumberAllocation,
    User,
)
from applications.reception_numbers import FIRST_NUMBER, LAST_NUMBER
from applications.services import application_submit, staff_role_group_ensure
from tests.html import Page

PASSWORD = "correct-horse-battery"

# A Monday morning in Japan (the `frozen_clock` and `freeze` fixtures of tests/conftest.py stand here). Submitted
# now → 回答予定日 Tue 11/17; overdue from Wed 11/18. The Monday a week later, 2026-11-23, is 勤労感謝の日: not
# a business day, yet inside the start-date window.
FROZEN_AT = datetime.datetime(2026, 11, 16, 10, 0, tzinfo=clock.JST)
HOLIDAY = datetime.date(2026, 11, 23)
# Every account gets the same known password, hashed with the suite's cheap hasher (tests/hashers.py).
_password_hash = factory.LazyFunction(lambda: make_password(PASSWORD))


REFERENCE_METHODS = importlib.import_module("applications.migrations.0002_processing_methods").METHODS


ENGLISH_METHOD_NAMES = {"interactive": "Interactive processing", "netnaccs": "netNACCS"}


def ensure_processing_methods() -> None:
    """The processing methods are reference data loaded by migration 0002; a transactional test's flush removes
    them, so factories put them back when they are missing."""
    for code, name, order in REFERENCE_METHODS:
        ProcessingMethod.objects.get_or_create(
            code=code, defaults={"name": name, "sort_order": order, "name_en": ENGLISH_METHOD_NAMES[code]}
        )


def method(code: str) -> ProcessingMethod:
    ensure_processing_methods()
    return ProcessingMethod.objects.get(code=code)


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract
        skip_postgeneration_save = True

    user_code = factory.Sequence(lambda n: f"T{n:04d}")
    company_name = factory.Sequence(lambda n: f"テスト通関{n}株式会社")
    office_name = "本社事業所"
    department = "通関部"

    @factory.post_generation
    def methods(self, create, extracted, **kwargs):
        codes = extracted if extracted is not None else ["interactive", "netnaccs"]
        if create:
            ensure_processing_methods()
            self.processing_methods.set(ProcessingMethod.objects.filter(code__in=codes))


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"customer{n}")
    password = _password_hash
    contract = factory.SubFactory(ContractFactory)
    full_name = "山田 太郎"
    department = "通関部"
    phone = "03-1234-5678"
    email = factory.Sequence(lambda n: f"customer{n}@example.com")


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"staff{n}")
    password = _password_hash
    contract = None
    is_staff = True


class NaccsUserIdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NaccsUserId

    contract = factory.SubFactory(ContractFactory)
    identifier = factory.Sequence(lambda n: f"Q{n:02d}"[-3:])
    processing_method = factory.LazyFunction(lambda: method("interactive"))
    is_customs_broker = True
    start_date = datetime.date(2026, 4, 1)


class DraftFactory(factory.django.DjangoModelFactory):
    """A draft ready to submit: applicant set, a valid desired start date, one ID (add more with ItemFactory)."""

    class Meta:
        model = Application
        skip_postgeneration_save = True

    contract = factory.SubFactory(ContractFactory)
    created_by = factory.SubFactory(CustomerFactory, contract=factory.SelfAttribute("..contract"))
    status = ApplicationStatus.DRAFT
    applicant_name = "山田 太郎"
    applicant_department = "通関部"
    applicant_phone = "03-1234-5678"
    applicant_email = "applicant@example.com"
    desired_start_date = None

    @factory.post_generation
    def items(self, create, extracted, **kwargs):
        count = 1 if extracted is None else extracted
        for index in range(count):
            ItemFactory(application=self, broker_name=f"通関 士{index}")


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApplicationItem

    application = factory.SubFactory(DraftFactory)
    processing_method = factory.LazyFunction(lambda: method("interactive"))
    desired_identifier = ""
    broker_name = factory.Sequence(lambda n: f"通関 太郎{n}")


# --- the NACCS centre's staff ------------------------------

# The roles of applications/roles.py. A transactional test's flush removes the groups the migrations made, so the
# helpers put them back with the same permissions (the service the demo data uses too).


def role_group(name: str) -> Group:
    return staff_role_group_ensure(role=name)


def staff_in(role: str | None, **kwargs) -> User:
    """A staff member in the group `role` (None: in no group, so without the review permission)."""
    user = StaffFactory(**kwargs)
    if role:
        user.groups.add(role_group(role))
    return user


def add_totp_device(user) -> TOTPDevice:
    """The confirmed authenticator the staff login asks a code of."""
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def staff_with_device(role: str | None, **kwargs) -> User:
    """A staff member who can log in at the staff login: in `role`, with a confirmed TOTP device."""
    user = staff_in(role, **kwargs)
    add_totp_device(user)
    return user


def totp_code(user) -> str:
    """The code `user`'s authenticator app shows now."""
    device = TOTPDevice.objects.get(user=user)
    code = totp(
        bytes.fromhex(device.key), step=device.step, t0=device.t0, digits=device.digits, drift=device.drift
    )
    return f"{code:0{device.digits}d}"


def otp_login(client, user):
    """Log `user` in at the staff login with password and the current TOTP code; returns the OTP-verified client."""
    response = client.post(
        reverse("reviews:login"),
        {"username": user.username, "password": PASSWORD, "otp_token": totp_code(user)},
    )
    assert response.status_code == 302, Page(response).page_errors()
    return client


def submitted_application(
    *, contract=None, methods=None, identifiers=None, desired_start_date=None, **kwargs
) -> Application:
    """A draft with one item per entry of `methods` (processing method codes) and of `identifiers` (a desired
    識別番号 or "" for none), filed through the real submission service with a valid desired date (the earliest
    one, unless given). By default one interactive item without a desired 識別番号."""
    if identifiers is None:
        identifiers = [""] * len(methods or ("interactive",))
    if methods is None:
        methods = ["interactive"] * len(identifiers)
    factory_kwargs = {"items": 0, **kwargs}
    if contract is not None:
        factory_kwargs["contract"] = contract
    draft = DraftFactory(
        desired_start_date=desired_start_date or rules.earliest_start_date(clock.today()), **factory_kwargs
    )
    for index, (code, identifier) in enumerate(zip(methods, identifiers, strict=True)):
        ItemFactory(
            application=draft,
            processing_method=method(code),
            desired_identifier=identifier,
            broker_name=f"通関 士{index}",
        )
    return application_submit(application=draft)


def removal_draft(*, contract=None, targets=(), desired_end_date=None, **kwargs) -> Application:
    """A draft of 通関士IDの削除 naming `targets` (NaccsUserIds of the contract) with a valid 利用終了希望日 (the
    earliest one, unless given)."""
    return _targets_draft(
        ApplicationKind.REMOVE_BROKER_IDS,
        contract=contract,
        targets=targets,
        desired_end_date=desired_end_date or rules.earliest_start_date(clock.today()),
        **kwargs,
    )


def reset_draft(*, contract=None, targets=(), **kwargs) -> Application:
    """A draft of パスワードの初期化 naming `targets` (NaccsUserIds of the contract)."""
    return _targets_draft(ApplicationKind.RESET_PASSWORDS, contract=contract, targets=targets, **kwargs)


def submitted_reset(**kwargs) -> Application:
    """`reset_draft` filed through the real submission service."""
    return application_submit(application=reset_draft(**kwargs))


def _targets_draft(kind, *, contract, targets, **kwargs) -> Application:
    factory_kwargs = {"items": 0, "kind": kind, **kwargs}
    if contract is not None:
        factory_kwargs["contract"] = contract
    draft = DraftFactory(**factory_kwargs)
    for target in targets:
        ItemFactory(
            application=draft,
            processing_method=target.processing_method,
            broker_name=target.broker_name or f"{draft.contract.user_code}{target.identifier}",
            target=target,
        )
    return draft


def submitted_removal(**kwargs) -> Application:
    """`removal_draft` filed through the real submission service."""
    return application_submit(application=removal_draft(**kwargs))


# --- exhausted ranges: the last 申込受付番号 handed out, every allocatable 識別番号 held --------------------------


def _reception_numbers_exhaust(*, left: int = 0) -> None:
    """Hand out every 申込受付番号 but the last `left`: with none left, the next submission's allocation row gets an
    id past 9999999. One row is inserted with its id and the table's sequence moved past it, as years of
    submissions would have done. Through the `reception_numbers_exhaust` fixture only (tests/conftest.py): a
    PostgreSQL sequence is not rolled back with the test's transaction, the fixture puts it back."""
    ReceptionNumberAllocation.objects.create(pk=LAST_NUMBER - FIRST_NUMBER - left)
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [ReceptionNumberAllocation]):
            cursor.execute(sql)


def identifiers_exhaust(contract: Contract) -> None:
    """Give `contract` a 利用者ID for every 識別番号 of the allocation order, so none is left to allocate."""
    interactive = method("interactive")
    NaccsUserId.objects.bulk_create(
        NaccsUserId(
            contract=contract,
            identifier=identifier,
            processing_method=interactive,
            is_customs_broker=True,
            start_date=datetime.date(2026, 4, 1),
        )
        for identifier in allocation_order()
    )


# --- staff enrolment (SPEC §10): the link e-mailed to the staff member, and enrolling through it ------------------

# A password the staff member chooses: passes Django's validators (12+ characters, not common, not numeric).
ENROL_PASSWORD = "mado-no-soto-wa-aozora"
ENROL_PATH = re.compile(r"https?://[^\s\"<>]+?(/staff/enrol/[A-Za-z0-9_-]+/)")


def emailed_link(address: str, *, kind: str, path: re.Pattern) -> str:
    """The path (group 1 of `path`) of the newest single-use link of e-mail `kind` sent through the outbox to
    `address`: from the outbox row while it waits to be sent, from the delivered message once sent (the row then
    keeps no copy of the link)."""
    from django.core import mail

    from notifications.models import Email, EmailStatus

    email = Email.objects.filter(kind=kind, to=address).order_by("-created_at", "-pk").first()
    assert email is not None, f"no {kind} e-mail to {address}"
    if email.status == EmailStatus.SENT:
        delivered = [
            message for message in mail.outbox if message.extra_headers.get("Message-ID") == email.message_id
        ]
        delivered = delivered or [message for message in mail.outbox if address in message.to]
        assert delivered, f"the {kind} e-mail to {address} was sent but is not in mail.outbox"
        body = delivered[-1].body
    else:
        body = email.body_text
    match = path.search(body)
    assert match, body
    return match.group(1)


def enrolment_link(address: str) -> str:
    """The path of the newest staff enrolment link e-mailed to `address`."""
    return emailed_link(address, kind="staff_enrolment", path=ENROL_PATH)


RESET_PATH = re.compile(r"https?://[^\s\"<>]+?(/password-reset/[A-Za-z0-9_-]{20,}/)")


def password_reset_link(address: str) -> str:
    """The path of the newest password reset link e-mailed to `address`."""
    return emailed_link(address, kind="customer_password_reset", path=RESET_PATH)


def enrolment_secret(response) -> bytes:
    """The TOTP secret the enrolment screen shows (base32, grouped for reading)."""
    (node,) = Page(response).root.find_all(**{"data-field": "totp-secret"})
    text = "".join(node.text.split())
    return base64.b32decode(text + "=" * (-len(text) % 8))


def code_for(secret: bytes) -> str:
    """What an authenticator app holding `secret` shows now (SHA-1, 6 digits, 30 s)."""
    return f"{totp(secret):06d}"


def enrol(client, path: str, password: str = ENROL_PASSWORD):
    """Open the enrolment link, read the secret like an authenticator app would, and enrol; returns
    (the final response, the secret)."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    secret = enrolment_secret(page)
    response = client.post(
        path, {"password1": password, "password2": password, "otp_token": code_for(secret)}
    )
    assert response.status_code == 302, Page(response).text
    return response, secret


def staff_login_with(client, username: str, password: str, secret: bytes):
    """The staff login with a password and the code of the authenticator holding `secret`."""
    return client.post(
        reverse("reviews:login"),
        {"username": username, "password": password, "otp_token": code_for(secret)},
    )


def approve_on_screens(client, application, *, start_date=None, follow=True):
    """Approval as staff do it (SPEC §8): 「承認内容を確認する」 with the start date, then 「承認する（IDを払い出す）」
    with what the confirmation screen carries. A refusal at the first step is returned as it is."""
    day = start_date or application.desired_start_date
    seen = Application.objects.get(pk=application.pk).status
    query = {"seen_status": seen}
    if day is not None:  # パスワードの初期化 has no date to confirm
        query["start_date"] = day.isoformat() if hasattr(day, "isoformat") else day
    confirm = client.get(
        reverse("reviews:approve-confirm", kwargs={"pk": application.pk}), query, follow=True
    )
    page = Page(confirm)
    if page.screen != "staff-approve-confirm":
        return confirm
    names = (
        ("start_date", "seen_status", "confirmation") if day is not None else ("seen_status", "confirmation")
    )
    data = {name: page.value_of(name) for name in names}
    return client.post(reverse("reviews:approve", kwargs={"pk": application.pk}), data, follow=follow)
