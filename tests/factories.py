"""Model factories for every test module (factory_boy)."""

import datetime
import importlib

import factory
from django.contrib.auth.hashers import make_password

from applications.models import (
    Application,
    ApplicationItem,
    ApplicationStatus,
    Contract,
    NaccsUserId,
    ProcessingMethod,
    User,
)

PASSWORD = "correct-horse-battery"
# Every account gets the same known password, hashed with the suite's cheap hasher (tests/hashers.py).
_password_hash = factory.LazyFunction(lambda: make_password(PASSWORD))


REFERENCE_METHODS = importlib.import_module("applications.migrations.0002_processing_methods").METHODS


def ensure_processing_methods() -> None:
    """The processing methods are reference data loaded by migration 0002; a transactional test's flush removes
    them, so factories put them back when they are missing."""
    for code, name, order in REFERENCE_METHODS:
        ProcessingMethod.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})


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
