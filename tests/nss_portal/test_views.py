"""The portal shell (SPEC §3, screens 1–3): login, menu, guidance, logout and the language switch."""

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import PASSWORD
from tests.html import Page

pytestmark = pytest.mark.django_db

WRONG_LOGIN = "ユーザーIDまたはパスワードが正しくありません。"


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def login_redirect(url: str) -> str:
    return f"{reverse('login')}?next={url}"


# --- screen 1: ログイン画面 ---------------------------------------------


def test_login_screen_has_labelled_user_id_and_password_and_a_login_button(client):
    page = Page(client.get(reverse("login")))
    assert page.screen == "login"
    user_id = page.control_labelled("ユーザーID")
    password = page.control_labelled("パスワード")
    assert (user_id.attrs["name"], user_id.attrs.get("type")) == ("username", "text")
    assert (password.attrs["name"], password.attrs["type"]) == ("password", "password")
    assert page.buttons().count("ログイン") == 1
    assert page.form_of("ログイン").attrs["method"].lower() == "post"


def test_login_with_the_right_password_leads_to_the_menu(client, customer):
    response = client.post(reverse("login"), {"username": customer.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("menu")
    assert logged_in(client)


def test_a_wrong_password_shows_the_japanese_message_and_logs_nobody_in(client, customer):
    response = client.post(reverse("login"), {"username": customer.username, "password": "wrong-password"})
    page = Page(response)
    assert response.status_code == 200
    assert page.screen == "login"
    assert WRONG_LOGIN in page.page_errors()
    assert not logged_in(client)
    assert client.get(reverse("menu"))["Location"] == login_redirect(reverse("menu"))


def test_an_unknown_user_id_gets_the_same_message_as_a_wrong_password(client):
    page = Page(client.post(reverse("login"), {"username": "nobody", "password": PASSWORD}))
    assert WRONG_LOGIN in page.page_errors()
    assert not logged_in(client)


def test_login_honours_next_carried_by_the_login_form(client, customer):
    target = reverse("applications:application-detail", kwargs={"pk": 42})
    page = Page(client.get(reverse("login"), {"next": target}))
    hidden = page.form_of("ログイン").find_all("input", name="next")
    assert [field.attrs["value"] for field in hidden] == [target]

    response = client.post(
        reverse("login"), {"username": customer.username, "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == target


def test_a_failed_login_keeps_next_for_the_second_try(client, customer):
    target = reverse("applications:application-list")
    response = client.post(
        reverse("login"), {"username": customer.username, "password": "wrong", "next": target}
    )
    hidden = Page(response).form_of("ログイン").find_all("input", name="next")
    assert [field.attrs["value"] for field in hidden] == [target]


def test_login_ignores_a_next_that_points_to_another_site(client, customer):
    response = client.post(
        reverse("login"),
        {"username": customer.username, "password": PASSWORD, "next": "https://evil.example/phish"},
    )
    assert response["Location"] == reverse("menu")


def test_an_already_logged_in_customer_is_sent_on_from_the_login_screen(customer_client):
    response = customer_client.get(reverse("login"))
    assert response.status_code == 302
    assert response["Location"] == reverse("menu")


# --- screen 2: メニュー画面 ---------------------------------------------


def test_menu_shows_the_office_and_its_three_buttons(customer_client, contract):
    page = Page(customer_client.get(reverse("menu")))
    assert page.screen == "menu"
    assert page.root.find_all(**{"data-field": "user_code"})[0].text == contract.user_code
    assert contract.company_name in page.text
    assert contract.office_name in page.text
    # Nothing is posted to go to a screen: those are links (a URL without "?", a new tab works).
    assert page.href_of("通関士IDの追加") == reverse("guidance")
    assert page.href_of("申込状況一覧") == reverse("applications:application-list")
    assert {"btn", "btn-primary"} <= page.link("通関士IDの追加").classes
    logout_forms = [
        form
        for form in page.root.find_all("form")
        if form.attrs.get("action") == reverse("logout") and "ログアウト" in form.text
    ]
    assert logout_forms
    assert all(form.attrs["method"].lower() == "post" for form in logout_forms)
    assert [b.text for b in page.main.find_all("button")] == ["ログアウト"]
    assert page.main.find_all("form", method="get") == []


# --- screen 3: 通関士IDガイダンス画面 ----------------------------------------


def test_guidance_has_the_add_button_posting_to_start(customer_client):
    page = Page(customer_client.get(reverse("guidance")))
    assert page.screen == "guidance"
    form = page.form_of("通関士IDを追加する")
    assert form.attrs["method"].lower() == "post"
    assert form.attrs["action"] == reverse("applications:start")


def test_guidance_explains_the_flow_in_order_and_the_utb_hours(customer_client):
    page = Page(customer_client.get(reverse("guidance")))
    flow = page.root.by_id("flow")
    assert flow is not None and flow.tag == "ol", "no flow list on the guidance screen"
    titles = [
        node.text for li in flow.find_all("li") for node in li.iter() if "nss-flow-title" in node.classes
    ]
    # SPEC §3: 変更申込 → 受付 → 内容確認中 → 審査終了 → 利用開始, as the guide draws them
    assert titles == [
        "１．変更申込",
        "受付",
        "‥ 内容確認中 ‥",
        "審査終了",
        "２．申込内容の確認",
        "★ 利用開始 ★",
        "３．通関士証票番号の登録",
    ]
    assert "UTB業務利用可能時間：平日00:00～23:00" in page.text
    assert "UTB01" in page.text
    assert "それぞれ1つずつの通関士IDが必要" in page.text


def test_guidance_follows_the_guide_all_methods_two_lanes_three_parts(customer_client):
    page = Page(customer_client.get(reverse("guidance")))
    assert "通関士IDの追加の申込" in page.text
    assert page.root.find_all(**{"data-field": "all_methods"})[0].text == "※すべての処理方式"
    lanes = [node.text for node in page.root.find_all("div") if "nss-flow-lanes" in node.classes][0]
    assert lanes == "お客様 NACCSセンター"
    steps = page.root.by_id("flow").find_all("li")
    assert [step.attrs["data-lane"] for step in steps] == [
        "customer",
        "centre",
        "centre",
        "centre",
        "customer",
        "both",
        "customer",
    ]
    # each step names its lane for a screen reader too
    assert all(step.text.startswith("お客様：") for step in steps if step.attrs["data-lane"] == "customer")
    assert all(
        step.text.startswith("NACCSセンター：") for step in steps if step.attrs["data-lane"] == "centre"
    )
    assert "（＝追加された識別番号が利用可能となる日）" in steps[5].text
    parts = [page.root.by_id(f"part-{n}").find_all("h2")[0].text for n in (1, 2, 3)]
    assert parts == ["１．NSSで通関士IDの申込を行う", "２．申込内容の確認", "３．通関士証票番号の登録"]
    # the customer's steps of the flow lead to their part
    assert [a.attrs["href"] for a in page.root.by_id("flow").find_all("a")] == [
        "#part-1",
        "#part-2",
        "#part-3",
    ]
    assert "★利用開始★（＝追加された識別番号が利用可能となる日）" in page.root.by_id("part-3").text.replace(
        " ", ""
    )
    assert "12-7896" in page.text and "7896 を左詰めで入力（ハイフン以降の番号を入力）" in page.text


def test_guidance_flow_steps_are_not_buttons(customer_client):
    page = Page(customer_client.get(reverse("guidance")))
    flow = page.root.by_id("flow")
    assert flow.find_all("button") == []
    assert not any(node.classes & {"btn", "badge"} for node in flow.iter())
    # the one button of the screen, and the way back, which is a link
    assert [button.text for button in page.main.find_all("button")] == ["通関士IDを追加する"]
    assert page.href_of("メニューに戻る") == reverse("menu")


def test_guidance_says_the_business_days_with_the_year_end_closure(customer_client):
    page = Page(customer_client.get(reverse("guidance")))
    rule = page.root.find_all(**{"data-field": "business_days"})[0].text
    assert "土曜日・日曜日・祝日と年末年始（12月29日～1月3日）を除く平日" in rule
    assert "年末年始（12月29日～1月3日）はNACCSセンターの休業日です。" in rule
    start = page.root.find_all(**{"data-field": "start_date_rule"})[0].text
    assert "申込日の2営業日後から3か月後までの営業日" in start
    assert "30日間変更のない下書きは削除されます" in page.text


def test_guidance_follows_the_closed_days_setting(customer_client, settings):
    settings.NSS_CENTRE_CLOSED_DAYS = []
    page = Page(customer_client.get(reverse("guidance")))
    rule = page.root.find_all(**{"data-field": "business_days"})[0].text
    assert rule == "営業日は、土曜日・日曜日・祝日を除く平日です。"
    assert "年末年始" not in page.text


# --- logout -------------------------------------------------------------


def test_logout_by_get_is_refused_and_keeps_the_session(customer_client):
    assert customer_client.get(reverse("logout")).status_code == 405
    assert logged_in(customer_client)


def test_logout_by_post_ends_the_session(customer_client):
    response = customer_client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert not logged_in(customer_client)
    assert customer_client.get(reverse("menu"))["Location"] == login_redirect(reverse("menu"))


# --- language -----------------------------------------------------------


def test_every_page_offers_the_switch_to_english(client):
    page = Page(client.get(reverse("login")))
    english = [b for b in page.root.find_all("button") if b.attrs.get("value") == "en"]
    assert len(english) == 1
    form = next(node for node in english[0].ancestors() if node.tag == "form")
    assert form.attrs["action"] == reverse("set_language")
    assert form.attrs["method"].lower() == "post"


def test_the_language_switch_to_english_sets_the_language_and_returns_to_the_page(customer_client):
    response = customer_client.post(reverse("set_language"), {"language": "en", "next": reverse("menu")})
    assert response.status_code == 302
    assert response["Location"] == reverse("menu")
    assert customer_client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = Page(customer_client.get(reverse("menu")))
    assert page.screen == "menu"
    assert page.root.find_all("html")[0].attrs["lang"] == "en"
    back = [b for b in page.root.find_all("button") if b.attrs.get("value") == "ja"]
    assert [b.text for b in back] == ["日本語"]


def test_with_english_chosen_the_login_screen_reads_in_english(client):
    client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    page = Page(client.get(reverse("login")))
    assert page.screen == "login"
    assert "ログイン" not in page.buttons()
    assert page.control_labelled("User ID").attrs["name"] == "username"
    assert page.control_labelled("Password").attrs["name"] == "password"
