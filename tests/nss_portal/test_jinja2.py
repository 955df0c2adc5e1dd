"""nss_portal/jinja2.py: the Jinja2 rows' `url` is django.urls.reverse, also where it fills a pk into a URL it
reversed once."""

import pytest
from django.test import override_settings
from django.urls import NoReverseMatch, reverse, set_script_prefix
from hypothesis import given
from hypothesis import strategies as st

from nss_portal.jinja2 import _pk_url_parts, url

NAMES = ["applications:application-detail", "reviews:application", "applications:id-notice"]


@given(name=st.sampled_from(NAMES), pk=st.integers(min_value=0, max_value=2**63 - 1))
def test_a_pk_url_is_reverses_answer(name, pk):
    assert url(name, pk=pk) == reverse(name, kwargs={"pk": pk})


@pytest.mark.parametrize("prefix", ["/", "/nss/", "/部署/"])
def test_the_script_prefix_is_followed(prefix):
    set_script_prefix(prefix)
    try:
        for name in NAMES:
            assert url(name, pk=7) == reverse(name, kwargs={"pk": 7})
            assert url(name, pk=7).startswith(reverse("healthz").rsplit("healthz", 1)[0])
    finally:
        set_script_prefix("/")


def test_anything_but_one_integer_pk_goes_through_reverse():
    assert url("menu") == reverse("menu")
    with pytest.raises(NoReverseMatch):
        url("applications:application-detail", pk="x")
    with pytest.raises(NoReverseMatch):
        url("applications:application-detail", pk=-1)


def test_a_changed_url_conf_empties_what_was_reversed_before():
    url("reviews:application", pk=3)
    assert _pk_url_parts.cache_info().currsize > 0
    with override_settings(ROOT_URLCONF="nss_portal.urls"):
        assert _pk_url_parts.cache_info().currsize == 0
        assert url("reviews:application", pk=3) == reverse("reviews:application", kwargs={"pk": 3})
