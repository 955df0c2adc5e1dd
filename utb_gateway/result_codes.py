"""NACCS-style result codes of the UTB gateway, in one table (SPEC §6).

The U/S codes are those of the NACCS specification; the L codes are this project's own, for the licence-number
field (通関士証票番号), which the NACCS table leaves to the implementation. README.md lists the same table.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ResultCode:
    code: str
    message: str | Promise  # in the screen's language; the JSON API always answers in Japanese


OK = ResultCode("00000", _("正常終了"))
# The logged-in 利用者ID may not use businesses: not started, revoked, or its temporary password not yet changed.
U0001 = ResultCode(
    "U0001",
    _("ログインした利用者IDは利用できません（利用開始前・廃止済み、または初期パスワードが未変更です）。"),
)
U0002 = ResultCode("U0002", _("業務の利用可能時間外です（UTB業務利用可能時間：平日00:00～23:00）。"))
S0001 = ResultCode("S0001", _("利用者IDが入力されていません。"))
S0002 = ResultCode("S0002", _("利用者IDの形式が正しくありません（8桁すべての入力が必要です）。"))
S0005 = ResultCode("S0005", _("入力された利用者IDは、入力者と同一の利用者コードの利用者IDではありません。"))
S0006 = ResultCode("S0006", _("入力された利用者IDはシステムに登録されていません。"))
S0007 = ResultCode("S0007", _("入力された利用者IDは通関士IDではありません。"))
# The project's own codes for the licence-number field.
L0001 = ResultCode("L0001", _("通関士証票番号が入力されていません。"))
L0002 = ResultCode(
    "L0002",
    _(
        "通関士証票番号の形式が正しくありません（数字1～5桁。ハイフンを含む番号は、5桁を超える場合はハイフン以降の番号を入力してください）。"
    ),
)

ALL = (OK, U0001, U0002, S0001, S0002, S0005, S0006, S0007, L0001, L0002)
BY_CODE = {result.code: result for result in ALL}
