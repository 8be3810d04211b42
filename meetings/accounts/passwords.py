"""The password policy: long enough, not a common password, not the person's own name.

Applied wherever a password is chosen: an account created (REST, CLI), an
administrator's reset, a user's change. The common passwords are the 30,000
of the xato.net list as shipped by the pinned ``zxcvbn`` package (MIT), plus a
few that Vietnamese users favour; matching ignores case, accents and the
digits or symbols people add at the end ("Password123!" is "password").
"""
from __future__ import annotations

import re
import unicodedata
from functools import cache

from flask import current_app, has_app_context

from meetings.core.errors import Invalid

DEFAULT_MIN_LENGTH = 10
MAX_LENGTH = 200
# Favourites of Vietnamese users that the English-language list lacks.
_LOCAL_COMMON = ("matkhau", "matkhaumoi", "anhyeuem", "emyeuanh", "yeuem", "yeuanh", "vietnam", "hanoi",
                 "saigon", "hochiminh", "hoangsa", "truongsa", "nguyen", "quochoi", "ubnd", "hdnd")
_TAIL = re.compile(r"[\d\W_]+$")


def _plain(text: str) -> str:
    """Lower case without accents (Vietnamese đ becomes d), for comparisons."""
    text = text.lower().replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@cache
def common_passwords() -> frozenset[str]:
    """The common passwords, in plain form (loaded once, on first use)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # 0.8 MB of lists: only when a password is chosen

    return frozenset(_plain(p) for p in (*FREQUENCY_LISTS["passwords"], *_LOCAL_COMMON))


def _min_length() -> int:
    if has_app_context():
        return int(current_app.config.get("PASSWORD_MIN_LENGTH") or DEFAULT_MIN_LENGTH)
    return DEFAULT_MIN_LENGTH


def problem(password: str, *, username: str = "", full_name: str = "", email: str | None = None,
            min_length: int | None = None) -> str | None:
    """Why ``password`` is refused for this person, or None when it is acceptable."""
    minimum = min_length or _min_length()
    if len(password) < minimum:
        return f"The password must have at least {minimum} characters."
    if len(password) > MAX_LENGTH:
        return f"The password must have at most {MAX_LENGTH} characters."
    plain = _plain(password)
    common = common_passwords()
    if plain in common or _TAIL.sub("", plain) in common or len(set(plain)) < 3:
        return "This password is too common; choose a longer phrase of your own."
    squeezed = _squeeze(plain)
    # Whole names from 4 letters; single parts of a name only from 5 (Vietnamese syllables such as
    # "van" or "thi" are inside too many ordinary words to refuse).
    whole = [_squeeze(_plain(n)) for n in (username, full_name or "", (email or "").partition("@")[0])]
    parts = [_squeeze(_plain(n)) for n in (full_name or "").split()]
    if any(len(n) >= 4 and n in squeezed for n in whole) or any(len(n) >= 5 and n in squeezed for n in parts):
        return "The password must not contain your name or username."
    return None


def _squeeze(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


def check(password: str, *, username: str = "", full_name: str = "", email: str | None = None) -> None:
    """Raise Invalid (code ``weak_password``) when ``password`` breaks the policy."""
    reason = problem(password, username=username, full_name=full_name, email=email)
    if reason is not None:
        raise Invalid(reason, code="weak_password")
