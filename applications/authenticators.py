"""Authenticator apps (TOTP, django-otp) that a person enrols for themselves: NACCS centre staff always (SPEC §10),
customers when their contract requires it (SPEC §11). One way to make the pending device, show it and confirm it.

A device is made unconfirmed (it cannot be used to log in) when the person first sees its secret; one current
code confirms it, and then it is the account's only authenticator."""

import base64
import io

import segno
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from .exceptions import DomainError
from .models import User

CONFIRMED_NAME = "authenticator"


def authenticator_pending(*, user: User, name: str) -> TOTPDevice:
    """The unconfirmed device `name` of `user`, made the first time (reloading the page shows the same secret)."""
    device, _created = TOTPDevice.objects.get_or_create(user=user, name=name, defaults={"confirmed": False})
    return device


def authenticator_confirm(*, user: User, name: str, otp_token: str) -> TOTPDevice:
    """One current code of the pending device `name` confirms it; it replaces any other device of the account.
    DomainError on the field `otp_token` when there is no such device or the code is wrong (nothing changes)."""
    device = TOTPDevice.objects.filter(user=user, name=name, confirmed=False).first()
    if device is None:  # the page was never shown: nothing to confirm yet
        raise DomainError(
            _("認証アプリの登録情報が見つかりません。画面を開き直してください。"),
            field="otp_token",
            code="no_device",
        )
    if not device.verify_token(otp_token):
        raise DomainError(
            _("確認コードが正しくありません。認証アプリに表示されている6桁の数字を入力してください。"),
            field="otp_token",
            code="wrong_code",
        )
    device.confirmed = True
    device.name = CONFIRMED_NAME
    device.save(update_fields=["confirmed", "name"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    return device


def authenticator_confirmed(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def secret_text(device: TOTPDevice) -> str:
    """The secret as a person types it into an app, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode()
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def qr_data_uri(text: str) -> str:
    """The QR code of `text` as an SVG image in a data: URI (the Content-Security-Policy allows data: images and
    no inline style). Black on white with the standard quiet zone, so phone cameras read it on any background."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(
        buffer, kind="svg", scale=5, border=4, dark="#000", light="#fff", xmldecl=False
    )
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
