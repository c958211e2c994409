"""18-digit resident identity numbers (GB 11643-1999): check digit, and what they encode."""

from __future__ import annotations

import re

import numpy as np

_FIRST17 = re.compile(r"[0-9]{17}")

WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
CHECK_CHARS = np.array(list("10X98765432"))


def check_digit(first17: str) -> str:
    """The 18th character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=False))
    return str(CHECK_CHARS[total % 11])


def check_digits(first17: np.ndarray) -> np.ndarray:
    """Vectorised :func:`check_digit` for an array of 17-digit strings."""
    digits = np.frombuffer("".join(first17).encode("ascii"), dtype=np.uint8).reshape(-1, 17)
    total = ((digits - ord("0")).astype(np.int64) * WEIGHTS).sum(axis=1)
    return CHECK_CHARS[total % 11]


def is_valid(id_number: str | None) -> bool:
    """True when the string is 17 digits plus the right check character (X in upper case)."""
    # str.isdigit() also accepts '²' and other non-ASCII digits, which int() then rejects
    if not isinstance(id_number, str) or len(id_number) != 18 \
            or not _FIRST17.fullmatch(id_number[:17]):
        return False
    return check_digit(id_number[:17]) == id_number[17].upper()
