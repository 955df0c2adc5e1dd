"""What the JSON API reads from a request, on its own: the Content-Type guard, the JSON object of text and the
fields as text (the views' answers to them are in test_views.py and test_hostile_json.py)."""

import json

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from utb_gateway.json_requests import ApiRefusal, json_object, json_only, json_text


def post(body: bytes | str, content_type: str = "application/json"):
    return RequestFactory().post("/utb/api/utb", data=body, content_type=content_type)


@pytest.mark.parametrize(("value", "text"), [(None, ""), ("035", "035"), (35, "35 (not a string)")])
def test_a_field_is_read_as_text_and_anything_else_is_marked_as_not_a_string(value, text):
    assert json_text(value) == text


def test_a_json_object_of_text_is_read():
    body = {"user_id": "1ANACY27", "licence_number": "２９－１０"}
    assert json_object(post(json.dumps(body, ensure_ascii=False))) == body


@pytest.mark.parametrize("body", ["[1, 2]", '"035"', "not json", b"\xff\xfe"])
def test_a_body_that_is_not_a_json_object_is_refused_with_400(body):
    with pytest.raises(ApiRefusal) as refused:
        json_object(post(body))
    assert refused.value.status == 400
    response = refused.value.response()
    assert response.status_code == 400
    assert json.loads(response.content)["error"] == "bad_request"


def test_a_control_character_deep_in_the_object_is_refused_with_the_text_check_message():
    with pytest.raises(ApiRefusal) as refused:
        json_object(post(json.dumps({"a": [{"b": "x\u0007y"}]})))
    assert refused.value.status == 400
    assert refused.value.message


def test_a_body_not_declared_as_json_is_answered_415_before_the_view_runs():
    calls = []

    @json_only
    def view(request):
        calls.append(request)
        return HttpResponse("ok")

    response = view(post("user_id=1ANACY27", content_type="application/x-www-form-urlencoded"))
    assert response.status_code == 415
    assert json.loads(response.content)["error"] == "unsupported_media_type"
    assert calls == []
    assert (
        view(post('{"user_id": "1ANACY27"}', content_type="application/json; charset=UTF-8")).content == b"ok"
    )
