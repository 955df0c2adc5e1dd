"""Every text field of every form goes through the one text check (SPEC §10 "Text input",
`applications/validators.py`), or accepts only a fixed alphabet by a regular expression. Found by walking the
forms modules, so a field added later without the check fails here."""

import importlib
import inspect

import pytest
from django import forms
from django.core.validators import RegexValidator

from applications.validators import validate_multiline_text, validate_single_line_text

FORM_MODULES = ["applications.forms", "reviews.forms", "utb_gateway.forms", "nss_portal.forms"]

# Fields that need not carry the check, and why.
EXEMPT = {
    # Credentials are compared, never stored or shown; Django's CharField already refuses NUL.
    ("nss_portal.forms.PortalCredentialsFields", "username"): "login: compared with stored accounts only",
    ("nss_portal.forms.LoginForm", "username"): "login: compared with stored accounts only",
    ("reviews.forms.StaffLoginForm", "username"): "login: compared with stored accounts only",
    ("reviews.forms.StaffLoginForm", "otp_token"): "a 6-digit code, compared only",
    ("reviews.forms.StaffEnrolmentForm", "otp_token"): "a 6-digit code, compared only",
    ("nss_portal.forms.AuthenticatorCodeForm", "otp_token"): "a 6-digit code, compared only",
    ("utb_gateway.forms.UtbLoginForm", "user_id"): "login: compared with stored 利用者IDs only",
    # UTB answers every input with a NACCS result code (S0002, L0002 …); the attempt log keeps it escaped.
    ("utb_gateway.forms.UtbRegistrationForm", "user_id"): "UTB: a result code for any input",
    ("utb_gateway.forms.UtbRegistrationForm", "licence_number"): "UTB: a result code for any input",
    # The queue's filters: a search finds nothing, a cursor not made by us is ignored; nothing is stored.
    ("reviews.forms.QueueFilterForm", "q"): "search text, never stored",
    ("reviews.forms.ContractSearchForm", "q"): "search text, never stored",
}
TEXT_CHECKS = {validate_single_line_text, validate_multiline_text}


def text_fields():
    for module_name in FORM_MODULES:
        module = importlib.import_module(module_name)
        for name, form in inspect.getmembers(module, inspect.isclass):
            if not issubclass(form, forms.BaseForm) or form.__module__ != module_name:
                continue
            for field_name, field in form.base_fields.items():
                if not isinstance(field, forms.CharField):
                    continue
                if isinstance(field.widget, forms.PasswordInput | forms.HiddenInput):
                    continue  # passwords are hashed, never shown; hidden fields carry our own values
                yield f"{module_name}.{name}", field_name, field


FIELDS = list(text_fields())


def test_the_walk_finds_the_forms():
    found = {(form, field) for form, field, _ in FIELDS}
    assert ("applications.forms.ApplicantForm", "name") in found
    assert ("applications.forms.ApplicantForm", "email") in found
    assert ("reviews.forms.RejectForm", "reason") in found


@pytest.mark.parametrize(
    ("form", "name", "field"), FIELDS, ids=[f"{form}.{name}" for form, name, _ in FIELDS]
)
def test_every_text_field_has_the_text_check_or_a_fixed_alphabet(form, name, field):
    if (form, name) in EXEMPT:
        return
    validators = list(field.validators)
    has_check = any(validator is check for validator in validators for check in TEXT_CHECKS)
    has_alphabet = any(
        isinstance(validator, RegexValidator) and not validator.inverse_match for validator in validators
    )
    assert has_check or has_alphabet, f"{form}.{name} takes text without applications.validators"


def test_every_exemption_still_names_a_field():
    names = {(form, field) for form, field, _ in FIELDS}
    assert set(EXEMPT) <= names
