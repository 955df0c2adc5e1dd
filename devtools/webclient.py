"""An HTTP client that goes through the portal's screens the way a browser without JavaScript does: its own cookies,
redirects followed, forms found by the label of their button and filled by the labels of their fields, CSRF tokens
sent back because they are hidden fields of the form. Stdlib only (http.client, html.parser), one connection per
request. Shared by the benchmarks, the drills and the test suite; never imported by the application.

    client = WebClient("127.0.0.1", port, headers={"X-Drill-Journey": "j1"})
    page = client.get("/login/")                            # a Page: .screen, .status, .field("reception_number")
    page = client.submit(page, "ログイン", {"ユーザーID": "…", "パスワード": "…"})

Every exchange is counted in `client.exchanges` (method, path, status or the error, when); a connection that fails
raises RequestFailed, and so does an answer of 400 or more (`page` on the exception when there was one).
"""

import http.client
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urljoin, urlsplit

from devtools.html import Node, parse_html

MAX_REDIRECTS = 5


class FormError(LookupError):
    """The page has no such button, field or option (the screen is not the one expected)."""


@dataclass
class Page:
    """One answer: its status, where it came from (after redirects), its headers and, for HTML, its document."""

    status: int
    url: str
    headers: dict[str, str]
    body: bytes
    redirected_from: list[str] = field(default_factory=list)
    _root: Node | None = None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def root(self) -> Node:
        if self._root is None:
            self._root = parse_html(self.text)
        return self._root

    @property
    def screen(self) -> str:
        """The data-screen of <main> (SPEC §3), "" when there is none."""
        main = self.root.first("main")
        return main.attrs.get("data-screen", "") if main is not None else ""

    @property
    def main(self) -> Node:
        return self.root.first("main") or self.root

    def field(self, name: str, within: Node | None = None) -> str:
        """The text of the element marked data-field=`name` (the first one), "" when there is none."""
        node = (within or self.root).first(data_field=name)
        return node.text if node is not None else ""

    def link(self, label: str) -> str:
        """The href of the link reading `label` (the one in <main> first, then the header's navigation), resolved
        against this page's URL."""
        for node in [*self.main.find_all("a"), *self.root.find_all("a")]:
            if node.text == label:
                return urljoin(self.url, node.attrs.get("href", ""))
        raise FormError(f"no link {label!r} on {self.screen or self.url}")

    def buttons(self) -> list[str]:
        return [node.text for node in self.root.find_all("button")]

    def form(self, button: str) -> "Form":
        """The form a button labelled `button` submits (the one in <main> when the header has one too)."""
        candidates = [node for node in self.root.find_all("button") if node.text == button]
        if not candidates:
            raise FormError(f"no button {button!r} on {self.screen or self.url} (buttons: {self.buttons()})")
        in_main = [node for node in candidates if any(a.tag == "main" for a in node.ancestors())]
        chosen = (in_main or candidates)[0]
        form = next((node for node in chosen.ancestors() if node.tag == "form"), None)
        if form is None:
            raise FormError(f"button {button!r} is in no form")
        return Form(self, form, chosen)


class Form:
    """A form as a browser would submit it when `button` is clicked: its successful controls, in order."""

    def __init__(self, page: Page, node: Node, button: Node):
        self.page = page
        self.node = node
        self.button = button
        self.method = (node.attrs.get("method") or "get").upper()
        self.action = urljoin(page.url, node.attrs.get("action") or page.url)

    def _labels(self) -> dict[str, str]:
        """Visible label text (without crispy's required-field asterisk) → the id of its control."""
        return {
            label.text.rstrip("*").strip(): label.attrs.get("for", "")
            for label in self.page.root.find_all("label")
            if label.attrs.get("for")
        }

    def data(self, fill: dict[str, str] | None = None) -> list[tuple[str, str]]:
        """The name/value pairs sent; `fill` sets controls by their label's text (or by their name), a select by
        one of its options' text (or value)."""
        fill = dict(fill or {})
        labels = self._labels()
        by_id = {labels[key]: key for key in fill if key in labels}
        applied: set[str] = set()
        pairs: list[tuple[str, str]] = []
        for control in self.node.iter():
            name = control.attrs.get("name")
            if not name or "disabled" in control.attrs or control.tag not in {"input", "textarea", "select"}:
                continue
            key = by_id.get(control.attrs.get("id", ""), name if name in fill else None)
            wanted = fill[key] if key is not None else None
            if control.tag == "input":
                kind = control.attrs.get("type", "text").lower()
                if kind in {"submit", "button", "image", "reset", "file"}:
                    continue
                if kind in {"checkbox", "radio"}:
                    value = control.attrs.get("value", "on")
                    if (wanted is None and "checked" in control.attrs) or wanted == value:
                        pairs.append((name, value))
                else:
                    pairs.append((name, control.attrs.get("value", "") if wanted is None else wanted))
            elif control.tag == "textarea":
                pairs.append((name, control.text if wanted is None else wanted))
            else:
                options = control.find_all("option")
                if wanted is not None:
                    matches = [o for o in options if wanted in (o.text, o.attrs.get("value", o.text))]
                    if not matches:
                        raise FormError(f"no option {wanted!r} in {name} ({[o.text for o in options]})")
                    chosen = matches[0]
                else:
                    chosen = next(
                        (o for o in options if "selected" in o.attrs), options[0] if options else None
                    )
                if chosen is not None:
                    pairs.append((name, chosen.attrs.get("value", chosen.text)))
            if key is not None:
                applied.add(key)
        missing = [key for key in fill if key not in applied]
        if missing:
            raise FormError(f"no field {missing} in the form of {self.button.text!r}")
        if self.button.attrs.get("name"):
            pairs.append((self.button.attrs["name"], self.button.attrs.get("value", "")))
        return pairs


class RequestFailed(Exception):
    """No answer (connection refused or cut, timeout), or an answer of 400 or more (`page`)."""

    def __init__(self, message: str, *, method: str, path: str, page: Page | None = None):
        super().__init__(message)
        self.method = method
        self.path = path
        self.page = page


@dataclass
class Exchange:
    at: float  # time.monotonic() when sent
    seconds: float
    method: str
    path: str
    status: int | None  # None: no answer
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.status is None or self.status >= 400

    def in_flight_at(self, instant: float, *, slack: float = 0.5) -> bool:
        """Whether the exchange was under way at `instant` (its interval widened by `slack` on both sides: the
        instant is read just before the kill, the failure seen just after)."""
        return self.at - slack <= instant <= self.at + self.seconds + slack


class WebClient:
    def __init__(self, host: str, port: int, *, headers: dict[str, str] | None = None, timeout: float = 60):
        self.host = host
        self.port = port
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.cookies: dict[tuple[str, str], str] = {}  # (name, path) → value
        self.exchanges: list[Exchange] = []

    # --- cookies ---

    def _cookie_header(self, path: str) -> str:
        return "; ".join(
            f"{name}={value}"
            for (name, cookie_path), value in self.cookies.items()
            if path.startswith(cookie_path)
        )

    def _remember(self, set_cookies: list[str]) -> None:
        for header in set_cookies:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                key = (name, morsel["path"] or "/")
                if morsel["max-age"] in ("0", 0) or (morsel["expires"] and "1970" in morsel["expires"]):
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value

    # --- one exchange ---

    def request(self, method: str, path: str, data: list[tuple[str, str]] | None = None) -> Page:
        """One request, no redirect followed; RequestFailed when there is no answer or it is 400 or more."""
        headers = {"Accept": "text/html", **self.headers}
        body = None
        if data is not None and method == "POST":
            body = urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif data:
            path = f"{urlsplit(path).path}?{urlencode(data)}"
        cookie = self._cookie_header(urlsplit(path).path)
        if cookie:
            headers["Cookie"] = cookie
        started = time.monotonic()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.exchanges.append(
                Exchange(
                    started,
                    time.monotonic() - started,
                    method,
                    path,
                    None,
                    f"{type(error).__name__}: {error}",
                )
            )
            raise RequestFailed(
                f"{method} {path}: {type(error).__name__}: {error}", method=method, path=path
            ) from error
        finally:
            connection.close()
        self.exchanges.append(Exchange(started, time.monotonic() - started, method, path, response.status))
        self._remember(response.headers.get_all("Set-Cookie") or [])
        page = Page(
            status=response.status,
            url=path,
            headers={key.lower(): value for key, value in response.headers.items()},
            body=content,
        )
        if response.status >= 400:
            raise RequestFailed(
                f"{method} {path}: HTTP {response.status}", method=method, path=path, page=page
            )
        return page

    def _follow(self, page: Page) -> Page:
        seen = []
        while page.status in (301, 302, 303, 307, 308) and len(seen) < MAX_REDIRECTS:
            seen.append(page.url)
            target = urlsplit(urljoin(page.url, page.headers.get("location", "")))
            page = self.request("GET", target.path + (f"?{target.query}" if target.query else ""))
        page.redirected_from = seen
        return page

    # --- what a person does ---

    def get(self, path: str, params: list[tuple[str, str]] | None = None) -> Page:
        """Open `path` (redirects followed)."""
        return self._follow(self.request("GET", path, params))

    def submit(self, page: Page, button: str, fill: dict[str, str] | None = None) -> Page:
        """Click `button` on `page` after filling its form (see Form.data); redirects followed."""
        form = page.form(button)
        data = form.data(fill)
        # A GET form replaces the action's query with its own fields, as browsers do.
        parts = urlsplit(form.action)
        action = parts.path + (f"?{parts.query}" if parts.query and form.method == "POST" else "")
        return self._follow(self.request(form.method, action, data))
