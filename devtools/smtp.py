"""An SMTP sink (aiosmtpd on 127.0.0.1) that records a message only once its DATA was fully received and the client
is still there to be answered 250: a client that died before that has not delivered it. Shared by the benchmarks,
the drill and the test suite; never imported by the application.

What it answers can be set per run: replies for given addresses (`rcpt_replies`), a rule for any address
(`rcpt_policy`), conversations held at RCPT (`hold`), a late answer to DATA (`delay`), a refusal of the DATA
(`data_reply`), and a connection cut at the client's QUIT (`drop_at_quit`). It can be stopped (connections refused)
and started again on the same port.
"""

import asyncio
import email
import email.policy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from devtools.processes import free_port, wait_until

WAIT_SECONDS = 60


@dataclass
class ReceivedMail:
    rcpt_tos: list[str]
    mail_from: str
    message: email.message.EmailMessage
    subject: str
    message_id: str
    text: str
    html: str
    data_at: float = 0.0  # the whole message was received (the sink's clock)
    at: float = 0.0  # answered 250
    # The client said QUIT after the 250: it finished the SMTP conversation (and then commits its row as SENT).
    quit: bool = False


def greylist_once(reply: str = "451 4.7.1 greylisted, try again later") -> Callable[[str], str]:
    """An `rcpt_policy` piece: `reply` to the first RCPT of each address, nothing (accept) afterwards."""
    seen: set[str] = set()

    def policy(address: str) -> str:
        if address in seen:
            return ""
        seen.add(address)
        return reply

    return policy


@dataclass
class SmtpSink:
    """The aiosmtpd handler and its server on `port` (a free loopback port unless given)."""

    port: int = 0
    # Every DATA is answered this many seconds late (a slow server); aiosmtpd cancels the wait, and nothing is
    # recorded, when the client goes away meanwhile. May be changed while the sink runs.
    delay: float = 0.0
    # Replies to give, in turn, to RCPT TO of an address before it is accepted ("550 …" forever, "451 …" once).
    rcpt_replies: dict[str, list[str]] = field(default_factory=dict)
    # Asked about every other RCPT TO: the reply to give instead of accepting it, or "" to accept.
    rcpt_policy: Callable[[str], str] | None = None
    # The reply to the DATA instead of 250 (e.g. "554 5.7.1 rejected"), nothing recorded.
    data_reply: str = ""
    # After the 250, cut the connection at the client's QUIT instead of answering it.
    drop_at_quit: bool = False
    # While set, every accepted RCPT waits (aiosmtpd cancels the wait when the client goes away); `held` counts the
    # conversations waiting.
    hold: threading.Event = field(default_factory=threading.Event)
    # What the times of a ReceivedMail are measured with.
    clock: Callable[[], float] = time.monotonic
    held: int = 0
    rcpt_seen: list[str] = field(default_factory=list)
    rcpt_refused: int = 0  # RCPTs answered 5xx (for good)
    rcpt_deferred: int = 0  # RCPTs answered 4xx (for now)
    messages: list[ReceivedMail] = field(default_factory=list)
    data_started: threading.Event = field(default_factory=threading.Event)
    data_seen: int = 0
    client_gone: int = 0  # DATA conversations whose client went away before the 250
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: object = None

    def __post_init__(self):
        if not self.port:
            self.port = free_port()

    # --- the server ---

    def start(self) -> "SmtpSink":
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, ready_timeout=10)
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop the server: connections are refused until start() (on the same port)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "SmtpSink":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- the SMTP conversation (aiosmtpd handler hooks) ---

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self._lock:
            self.rcpt_seen.append(address)
            replies = self.rcpt_replies.get(address) or []
            reply = replies[0] if replies else ""
            if reply and not reply.startswith("5"):
                replies.pop(0)  # a temporary refusal is given once; a permanent one every time
            if not reply and self.rcpt_policy is not None:
                reply = self.rcpt_policy(address)
            if reply.startswith("5"):
                self.rcpt_refused += 1
            elif reply.startswith("4"):
                self.rcpt_deferred += 1
        if reply:
            return reply
        if self.hold.is_set():
            with self._lock:
                self.held += 1
            try:
                while self.hold.is_set():
                    await asyncio.sleep(0.02)
            finally:
                with self._lock:
                    self.held -= 1
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data_at = self.clock()
        with self._lock:
            self.data_seen += 1
        self.data_started.set()
        if self.data_reply:
            return self.data_reply
        if self.delay > 0:
            await asyncio.sleep(self.delay)
        if server.transport is None or server.transport.is_closing():
            with self._lock:
                self.client_gone += 1
            return "421 client gone"
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        text_part = message.get_body(preferencelist=("plain",))
        html_part = message.get_body(preferencelist=("html",))
        received = ReceivedMail(
            rcpt_tos=list(envelope.rcpt_tos),
            mail_from=envelope.mail_from,
            message=message,
            # A long encoded Subject is folded right after the colon; readers unfold and strip that space.
            subject=str(message["Subject"]).strip(),
            message_id=str(message["Message-ID"]).strip(),
            text=text_part.get_content() if text_part is not None else "",
            html=html_part.get_content() if html_part is not None else "",
            data_at=data_at,
            at=self.clock(),
        )
        with self._lock:
            self.messages.append(received)
        session.sink_received = received
        return "250 Message accepted for delivery"

    async def handle_QUIT(self, server, session, envelope):
        received = getattr(session, "sink_received", None)
        if received is not None:
            received.quit = True
        if self.drop_at_quit:
            server.transport.abort()
        return "221 Bye"

    # --- what arrived ---

    def received(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self.messages)

    def wait_for(self, count: int, *, timeout: float = WAIT_SECONDS) -> list[ReceivedMail]:
        """Wait until at least `count` messages arrived; returns all of them."""
        wait_until(
            lambda: len(self.received()) >= count,
            timeout=timeout,
            message=f"{count} message(s) at the SMTP sink, got {len(self.received())}",
        )
        return self.received()
