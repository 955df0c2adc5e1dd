"""The one domain error and the one helper that puts it on a form: next to its field, or at the top of the form."""

import pytest
from django import forms

from applications.exceptions import DomainError, IllegalTransition, form_add_domain_error
from applications.rules import check_desired_start_date
from utb_gateway.services import UtbLoginError


class TwoFieldForm(forms.Form):
    name = forms.CharField(required=False)
    email = forms.CharField(required=False)


def bound_form() -> TwoFieldForm:
    form = TwoFieldForm({"name": "山田", "email": "taro@example.jp"})
    assert form.is_valid()
    return form


def test_an_error_of_a_field_the_form_has_is_shown_next_to_that_field():
    form = bound_form()
    error = DomainError("このメールアドレスは使われています。", field="email", code="email_taken")
    assert form_add_domain_error(form, error) is True
    assert form.errors["email"] == ["このメールアドレスは使われています。"]
    assert form.non_field_errors() == []
    assert "email" not in form.cleaned_data
    assert form.cleaned_data["name"] == "山田"


def test_an_error_without_a_field_is_shown_at_the_top_of_the_form():
    form = bound_form()
    assert form_add_domain_error(form, DomainError("この操作を行う権限がありません。", code="denied")) is True
    assert form.non_field_errors() == ["この操作を行う権限がありません。"]
    assert set(form.errors) == {"__all__"}


def test_an_error_of_a_field_the_form_does_not_have_is_shown_at_the_top_of_the_form():
    form = bound_form()
    error = DomainError("役割を選択してください。", field="role", code="role")
    assert form_add_domain_error(form, error) is True
    assert form.non_field_errors() == ["役割を選択してください。"]
    assert "role" not in form.errors


def test_with_non_field_off_an_error_without_a_field_of_the_form_is_left_for_the_caller():
    form = bound_form()
    for error in (
        DomainError("他の担当者により更新されています。", code="stale"),
        DomainError("理由を入力してください。", field="reason", code="required"),
    ):
        assert form_add_domain_error(form, error, non_field=False) is False
    assert form.errors == {}
    assert form.is_valid()


def test_with_non_field_off_an_error_of_a_field_of_the_form_is_still_shown_next_to_it():
    form = bound_form()
    error = DomainError("氏名を入力してください。", field="name", code="required")
    assert form_add_domain_error(form, error, non_field=False) is True
    assert form.errors["name"] == ["氏名を入力してください。"]


def test_a_rule_raises_the_domain_error_with_its_message_field_and_code():
    with pytest.raises(DomainError) as refused:
        check_desired_start_date(None, today=None)
    assert refused.value.message == "利用開始希望日を入力してください。"
    assert refused.value.field == "desired_start_date"
    assert refused.value.code == "required"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (
            IllegalTransition("この申込は取り下げできません。", code="illegal_transition"),
            "illegal_transition",
        ),
        (UtbLoginError("利用者IDまたはパスワードが正しくありません。"), "credentials_refused"),
    ],
)
def test_the_specific_refusals_of_each_app_are_domain_errors(error, code):
    assert isinstance(error, DomainError)
    assert error.code == code
    assert error.field is None
    assert str(error) == error.message
