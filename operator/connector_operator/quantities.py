"""Kubernetes resource quantities (`500m`, `1Gi`, `2`): their value, to compare and check them.

The API server accepts a quantity as a number or a string and canonicalises it (`1.5` -> `1500m`),
so the operator compares values, never spellings; and it checks what the API server would refuse
(a negative quantity, requests above limits) before rendering a Job.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:([eE][+-]?[0-9]+)|([a-zA-Z]*))$")
_SUFFIX = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("0.001"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}


def value(quantity: object) -> Decimal | None:
    """The value of a quantity (int or string), None when it is not one."""
    if isinstance(quantity, bool) or not isinstance(quantity, int | str):
        return None
    match = _QUANTITY.match(str(quantity).strip())
    if not match:
        return None
    number, exponent, suffix = match.groups()
    try:
        if exponent:
            return Decimal(number + exponent)
        if (suffix or "") not in _SUFFIX:
            return None
        return Decimal(number) * _SUFFIX[suffix or ""]
    except InvalidOperation:
        return None
