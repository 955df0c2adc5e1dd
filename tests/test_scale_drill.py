"""The pieces of devtools/ the scale drill (bench/scale_drill.py, `make scale-drill`) stands on, without running it:
the nginx configuration (two loopback instances, round-robin, another instance only for idempotent requests, every
path in its own directory), the reading of its access log (which instance answered, per journey), the bound of the
failed requests (in flight at the kill) and the form filling of the web client."""

import shutil
import subprocess
from pathlib import Path

import pytest

from devtools.nginx import (
    AccessRecord,
    answered_per_instance,
    instances_per_journey,
    journeys_on_one_instance,
    nginx_config,
    parse_access_log,
)
from devtools.webclient import Exchange, FormError, Page, WebClient
from tests.conftest import _missing

A, B = "127.0.0.1:8001", "127.0.0.1:8002"


def config(tmp_path: Path) -> str:
    return nginx_config(directory=tmp_path, port=9000, upstreams=[8001, 8002])


def directives(text: str, name: str) -> list[str]:
    return [line.strip().rstrip(";") for line in text.splitlines() if line.strip().startswith(f"{name} ")]


# --- the nginx configuration ------------------------------------------------------------------------------------


def test_the_upstream_has_both_loopback_instances_and_nginx_listens_on_loopback_only(tmp_path):
    text = config(tmp_path)
    assert [line for line in directives(text, "server") if line != "server {"] == [
        "server 127.0.0.1:8001 max_fails=1 fail_timeout=3s",
        "server 127.0.0.1:8002 max_fails=1 fail_timeout=3s",
    ]
    assert directives(text, "listen") == ["listen 127.0.0.1:9000"]
    assert directives(text, "proxy_pass") == ["proxy_pass http://portal"]
    # round-robin is nginx's default: no other balancing method is named
    assert not any(directives(text, method) for method in ("ip_hash", "hash", "least_conn", "random"))


def test_a_failed_instance_is_left_for_the_next_only_for_idempotent_requests(tmp_path):
    text = config(tmp_path)
    assert directives(text, "proxy_next_upstream") == ["proxy_next_upstream error timeout http_502"]
    # `non_idempotent` would send a POST that reached the killed instance a second time
    assert "non_idempotent" not in text
    assert directives(text, "proxy_next_upstream_tries") == ["proxy_next_upstream_tries 2"]


def test_nginx_runs_in_the_foreground_and_writes_only_into_its_directory(tmp_path):
    text = config(tmp_path)
    assert directives(text, "daemon") == ["daemon off"]
    written = [
        *directives(text, "pid"),
        *directives(text, "error_log"),
        *directives(text, "access_log"),
        *(line for line in text.splitlines() if "_temp_path" in line),
    ]
    assert len(written) == 8
    paths = [line.split()[1].rstrip(";") for line in written]
    assert all(path.startswith(f"{tmp_path}/") for path in paths), paths


def test_nginx_itself_accepts_the_configuration(tmp_path):
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        _missing("nginx is not installed (make nginx; make test installs it)")
    (tmp_path / "temp").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(config(tmp_path))
    result = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


# --- the access log ----------------------------------------------------------------------------------------------


def log_line(at, method, status, uri, addresses, statuses, journey) -> str:
    return "\t".join([str(at), method, str(status), uri, addresses, statuses, journey])


LOG = "\n".join(
    [
        log_line(100.5, "GET", 200, "/login/", A, "200", "j1"),
        log_line(101.0, "POST", 302, "/login/", B, "302", "j1"),
        # the instance died under a GET: nginx passed it on, and the client got the other's answer
        log_line(102.0, "GET", 200, "/menu/", f"{A}, {B}", "502, 200", "j1"),
        # a POST that reached the killed instance is not passed on
        log_line(102.1, "POST", 502, "/applications/drafts/3/confirm/", A, "502", "j2"),
        # no instance left to try: nginx names the upstream group and answers itself
        log_line(102.2, "GET", 502, "/menu/", "portal", "-", "j2"),
        log_line(103.0, "GET", 200, "/healthz", B, "200", "-"),
        "not a line of the drill's format",
    ]
)


def test_the_access_log_is_read_with_every_instance_tried():
    records = parse_access_log(LOG)
    assert len(records) == 6
    retried = records[2]
    assert (retried.upstreams, retried.upstream_statuses, retried.answered_by, retried.retried) == (
        [A, B],
        ["502", "200"],
        B,
        True,
    )
    assert (records[4].upstreams, records[4].answered_by, records[4].status) == ([], "", 502)
    assert (records[5].journey, records[0].at, records[3].method) == ("", 100.5, "POST")


def test_the_answers_are_counted_per_instance_and_per_journey():
    records = parse_access_log(LOG)
    assert answered_per_instance(records) == {A: 2, B: 3}
    assert instances_per_journey(records) == {"j1": {A, B}, "j2": {A}}


def test_a_journey_seen_by_one_instance_counts_only_when_it_ran_outside_the_outage():
    records = [
        AccessRecord(at, "GET", 200, "/", [address], ["200"], journey)
        for at, address, journey in [
            (10.0, A, "both"),
            (11.0, B, "both"),
            (20.0, B, "during"),
            (21.0, B, "during"),
            (30.0, B, "sticky"),
            (31.0, B, "sticky"),
        ]
    ]
    assert journeys_on_one_instance(records, outages=[(19.0, 25.0)]) == ["sticky"]
    assert journeys_on_one_instance(records, outages=[]) == ["during", "sticky"]


# --- failed requests in flight at the kill -------------------------------------------------------------------------


def test_a_failed_request_counts_as_in_flight_when_its_interval_holds_the_kill():
    exchange = Exchange(at=10.0, seconds=0.2, method="POST", path="/login/", status=502)
    assert exchange.failed
    assert exchange.in_flight_at(10.1, slack=0)
    assert exchange.in_flight_at(10.6, slack=0.5)
    assert not exchange.in_flight_at(10.8, slack=0.5)
    assert not exchange.in_flight_at(9.4, slack=0.5)
    assert not Exchange(at=1.0, seconds=0.1, method="GET", path="/", status=302).failed
    assert Exchange(at=1.0, seconds=0.1, method="GET", path="/", status=None, error="reset").failed


# --- the web client's forms and cookies ------------------------------------------------------------------------------

FORM_PAGE = """<html><body><header><form method="post" action="/logout/"><input type="hidden" name="csrfmiddlewaretoken"
value="tok"><button type="submit">ログアウト</button></form></header>
<main data-screen="add-ids"><form method="post" novalidate>
<input type="hidden" name="csrfmiddlewaretoken" value="tok">
<label for="id_date">利用開始希望日<span class="asteriskField">*</span></label><input id="id_date" name="desired_start_date" value="2026-12-04">
<label for="id_method">処理方式</label><select id="id_method" name="processing_method">
<option value="">---------</option><option value="1">インタラクティブ処理方式</option><option value="2">netNACCS</option></select>
<label for="id_name">通関士氏名</label><input id="id_name" name="broker_name" type="text">
<input type="checkbox" name="agree" value="yes" checked>
<input type="text" name="off" value="x" disabled>
<button type="submit" name="add" value="1">設定する</button>
<button type="submit" name="proceed" value="1">申込内容確認へ進む</button>
<button type="submit">ログアウト</button>
</form><a href="../confirm/">確認へ</a></main></body></html>"""


def page() -> Page:
    return Page(status=200, url="/applications/drafts/7/ids/", headers={}, body=FORM_PAGE.encode())


def test_a_form_is_sent_as_a_browser_sends_it_with_the_fields_filled_by_their_labels():
    form = page().form("設定する")
    assert (form.method, form.action) == ("POST", "/applications/drafts/7/ids/")
    assert form.data({"処理方式": "インタラクティブ処理方式", "通関士氏名": "通関 太郎"}) == [
        ("csrfmiddlewaretoken", "tok"),
        ("desired_start_date", "2026-12-04"),
        ("processing_method", "1"),
        ("broker_name", "通関 太郎"),
        ("agree", "yes"),
        ("add", "1"),
    ]
    assert page().form("申込内容確認へ進む").data()[-1] == ("proceed", "1")
    # the screen's own button, not the header's one of the same label
    assert page().form("ログアウト").action == "/applications/drafts/7/ids/"
    assert page().screen == "add-ids"
    assert page().link("確認へ") == "/applications/drafts/7/confirm/"


def test_a_field_option_or_button_that_is_not_there_is_refused():
    with pytest.raises(FormError, match="no field"):
        page().form("設定する").data({"希望識別番号": "K7Q"})
    with pytest.raises(FormError, match="no option"):
        page().form("設定する").data({"処理方式": "メール処理方式"})
    with pytest.raises(FormError, match="no button"):
        page().form("申込内容を登録する")


def test_the_client_keeps_cookies_by_path_and_forgets_deleted_ones():
    client = WebClient("127.0.0.1", 1)
    client._remember(
        [
            "sessionid=abc; HttpOnly; Path=/; SameSite=Lax",
            "nss_utb_session=u1; Path=/utb/; Max-Age=28800",
            "csrftoken=t1; Path=/",
        ]
    )
    assert client._cookie_header("/menu/") == "sessionid=abc; csrftoken=t1"
    assert client._cookie_header("/utb/password/") == "sessionid=abc; nss_utb_session=u1; csrftoken=t1"
    client._remember(['nss_utb_session=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/utb/'])
    assert client._cookie_header("/utb/") == "sessionid=abc; csrftoken=t1"
