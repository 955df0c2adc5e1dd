"""Numbers typed with hyphens: the one list of hyphen look-alikes and the one normaliser that uses it.

Customers type full-width digits and whatever their input method offers for "-" (the guide's own sample
通関士証票番号 is ２９－１０). A phone number (`applications.rules.normalise_phone`) and a 通関士証票番号
(`utb_gateway.licence_numbers.normalise`) are both normalised here before they are checked.
"""

import unicodedata

# Hyphen look-alikes seen in Japanese input: hyphen, non-breaking hyphen, figure dash, en/em dash, horizontal bar,
# minus sign, katakana prolonged sound mark (ー), full-width hyphen-minus (－), half-width prolonged mark (ｰ).
HYPHEN_LIKE = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d\uff70"
_TO_HYPHEN = {ord(character): "-" for character in HYPHEN_LIKE}


def normalise_hyphenated_number(raw: str) -> str:
    """Width-fold (NFKC: ２９ → 29), hyphen look-alikes → "-", all whitespace dropped (inner too: "12 - 97")."""
    folded = unicodedata.normalize("NFKC", raw or "").translate(_TO_HYPHEN)
    return "".join(folded.split())
