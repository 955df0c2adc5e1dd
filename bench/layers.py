"""Where a request's CPU time goes, by layer (`bench/run.py`, README "Performance").

A few entry points of Django and of the portal are wrapped while a page is requested; each wrapped call adds the
CPU time of this thread it spent to its layer, less what calls of another wrapped entry point inside it spent
(those count for their own layer). What no layer claims — the middleware, URL resolving, the view's own code,
building querysets, the test client — is "the rest".

- session and account: loading the session and the logged-in account (with the account's contract, a staff
  member's TOTP device; for the UTB API, checking the 利用者ID and its password against the verified-credential
  cache). It takes in the queries it makes.
- SQL: every query through the ORM, compiled, sent, read and turned into objects (PostgreSQL's own work is another
  process's, so it is not in these CPU figures).
- rendering: the templates, both engines, less the queries a template sets off.
"""

import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass

SESSION_AND_ACCOUNT = "session and account"
SQL = "SQL"
RENDERING = "rendering"
REST = "the rest"
LAYERS = (SESSION_AND_ACCOUNT, SQL, RENDERING, REST)


def entry_points():
    """(owner, attribute name, layer) of every wrapped entry point."""
    from django.contrib import auth
    from django.db.models.query import QuerySet
    from django.db.models.sql.compiler import SQLCompiler
    from django.template.backends.django import Template as DjangoTemplate
    from django.template.backends.jinja2 import Template as Jinja2Template
    from django_otp.middleware import OTPMiddleware

    from utb_gateway import services as utb_services

    return [
        (auth, "get_user", SESSION_AND_ACCOUNT),
        (OTPMiddleware, "_verify_user_sync", SESSION_AND_ACCOUNT),
        (utb_services, "naccs_id_authenticate", SESSION_AND_ACCOUNT),
        (QuerySet, "_fetch_all", SQL),
        (SQLCompiler, "execute_sql", SQL),
        (DjangoTemplate, "render", RENDERING),
        (Jinja2Template, "render", RENDERING),
    ]


class LayerClock:
    """CPU seconds per layer of what ran between `start` and `stop`; see the module's docstring."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self._stack: list[list] = []  # [layer, seconds spent in nested wrapped calls]

    def timed(self, layer: str, function):
        clock = self

        def wrapper(*args, **kwargs):
            if clock._stack and clock._stack[-1][0] == SESSION_AND_ACCOUNT:
                return function(*args, **kwargs)  # the account's own queries are part of loading it
            started = time.thread_time()
            clock._stack.append([layer, 0.0])
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.thread_time() - started
                _layer, nested = clock._stack.pop()
                clock.seconds[layer] += spent - nested
                if clock._stack:
                    clock._stack[-1][1] += spent

        wrapper.__wrapped__ = function
        return wrapper


@contextmanager
def layer_clock():
    """Wraps the entry points for the block and yields the LayerClock that adds up their time."""
    clock = LayerClock()
    originals = []
    for owner, name, layer in entry_points():
        original = owner.__dict__[name] if name in getattr(owner, "__dict__", {}) else getattr(owner, name)
        originals.append((owner, name, original))
        setattr(owner, name, clock.timed(layer, original))
    try:
        yield clock
    finally:
        for owner, name, original in reversed(originals):
            setattr(owner, name, original)


@dataclass(frozen=True)
class Split:
    """One page's cost per request, in ms: CPU by layer (the rest included), all of it, and the wall time (the
    CPU plus the waits on PostgreSQL and Redis)."""

    layers: dict[str, float]
    wall_ms: float

    @property
    def cpu_ms(self) -> float:
        return sum(self.layers.values())


def per_request(call, requests: int, *, batches: int = 5) -> Split:
    """`requests` calls of `call` in `batches`: the figures of the batch that took the least CPU time (the one
    least disturbed by the rest of the machine)."""
    size = max(1, requests // batches)
    best: Split | None = None
    for _batch in range(batches):
        with layer_clock() as clock:
            cpu, wall = time.thread_time(), time.perf_counter()
            for _request in range(size):
                call()
            cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
        if best is None or cpu * 1000 / size < best.cpu_ms:
            figures = {layer: clock.seconds[layer] * 1000 / size for layer in LAYERS[:-1]}
            figures[REST] = cpu * 1000 / size - sum(figures.values())
            best = Split(layers=figures, wall_ms=wall * 1000 / size)
    return best
