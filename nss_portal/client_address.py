"""The client address of a request, for the login lockouts (django-axes for the portal and staff logins, and the
UTB gateway's own lock per (利用者ID, address)).

With no proxy in front (NSS_TRUSTED_PROXY_COUNT=0, the default) it is REMOTE_ADDR and X-Forwarded-For is ignored:
a client can write anything there. Behind N trusted reverse proxies that each append the address they received
the request from (nginx's `$proxy_add_x_forwarded_for`), the client is the N-th entry from the right; entries left
of it were written by the client and are never believed. A header with fewer entries than proxies, or an entry
that is not an IP address, falls back to REMOTE_ADDR.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.NSS_TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote
    candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
