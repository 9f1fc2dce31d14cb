"""A frame's text as JSON, read strictly, and its ``ref``, read even from a
text that cannot be decoded (so that the error still answers the request).

Browsers send what ``JSON.stringify`` makes; anything else comes from a client
we do not trust. :func:`decode` reads like ``json.loads`` but refuses, with
:class:`UndecodableFrame`, what would fail later or could mean two things:

- nesting deeper than the parser's recursion allows: ``json.loads`` raises
  RecursionError (not ValueError) for ``[[[[...``;
- ``NaN``, ``Infinity`` and numbers beyond a float (``1e999999``): not JSON,
  and ``json.dumps`` would hand them back to a browser as invalid JSON;
- integers longer than Python 3.11 converts (4300 digits: a ValueError);
- a key repeated in one object: which one counts depends on the parser, and
  the first may be what a proxy or log checked.

:func:`salvaged_ref` finds a literal top-level ``"ref"`` member in a text
that :func:`decode` refused. It is one forward scan that never recurses: a run
of brackets only moves a depth counter, a string is matched from its opening
quote once, and a string that never ends stops the scan. (A regex *search*
for ``"ref"`` would be wrong, finding refs in nested objects and strings, and
slow: retried at every quote of ``"\\"\\"\\"...``, it is quadratic.) The scan
reads at most SCAN_TOKENS runs and strings: a frame-sized text of ``[][][]...``
would otherwise cost tens of milliseconds of Python per frame, so a ref that
far in is not read.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_REF_LENGTH = 64
# The largest integer a browser's JSON.parse reads exactly
# (Number.MAX_SAFE_INTEGER): a larger ref could not be matched to its request.
MAX_SAFE_INTEGER = 2**53 - 1
# How many runs of brackets or other characters and strings salvaged_ref reads
# at most (about a millisecond).
SCAN_TOKENS = 2048


class UndecodableFrame(ValueError):
    """The text is not JSON that a frame may be; the message says why."""


def usable_ref(value: Any) -> str | int | None:
    """``value`` if it can serve as a frame's ref (a string of 1-64
    characters, or a whole number a browser reads exactly), else None."""
    if isinstance(value, str):
        return value if 0 < len(value) <= MAX_REF_LENGTH else None
    # bool is an int in Python but never what the browser meant.
    if isinstance(value, int) and not isinstance(value, bool):
        return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else None
    return None


# --- Decoding -----------------------------------------------------------------------
def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UndecodableFrame(f"the number {text[:20]} is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise UndecodableFrame(f"{name} is not JSON")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    body = dict(pairs)
    if len(body) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise UndecodableFrame(f"the key {key[:MAX_REF_LENGTH]!r} is given twice")
            seen.add(key)
    return body


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object, parse_float=_finite_float, parse_constant=_no_constant
)


def decode(text: str) -> Any:
    """The JSON value of ``text``; UndecodableFrame says why there is none."""
    try:
        return _DECODER.decode(text)
    except UndecodableFrame:
        raise
    except RecursionError:
        raise UndecodableFrame("it is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise UndecodableFrame(f"{exc.msg} at character {exc.pos}") from None
    except ValueError:  # int() of more digits than sys.get_int_max_str_digits()
        raise UndecodableFrame("a number has too many digits") from None


# --- The ref of an undecodable text ----------------------------------------------------
_SPACE = r"[ \t\n\r]*"
# Each pattern is matched (never searched) at a position the scan stands on.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPENERS = re.compile(r"[\[{]+")
_CLOSERS = re.compile(r"[\]}]+")
_OTHER = re.compile(r'[^"\[\]{}]+')
_KEY_END = re.compile(_SPACE + ":" + _SPACE)
# A ref value ends its member: followed by "," or "}" (or the end of a text cut short).
_MEMBER_END = "(?=" + _SPACE + "(?:[,}]|$))"
_REF_STRING = re.compile(r'"(?:[^"\\]|\\.)*"' + _MEMBER_END, re.DOTALL)
_REF_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]{0,15})" + _MEMBER_END)


def _run_end(pattern: re.Pattern[str], text: str, pos: int) -> int:
    """Where the run of ``pattern`` at ``pos`` ends (the scan stands on a
    character that starts one; past that character in any case)."""
    match = pattern.match(text, pos)
    return match.end() if match else pos + 1


def _ref_value(text: str, pos: int) -> str | int | None:
    """The usable ref whose value starts at ``pos``, else None."""
    if match := _REF_STRING.match(text, pos):
        try:
            return usable_ref(json.loads(match.group()))
        except ValueError:  # a bad escape or a raw control character
            return None
    if match := _REF_NUMBER.match(text, pos):
        return usable_ref(int(match.group()))
    return None


def salvaged_ref(text: str) -> str | int | None:
    """The ref of a text that is not a decodable frame: the value of its one
    literal ``"ref"`` key at the top level of an object, when that value is a
    usable ref and can be read. None if there is none, or more than one, in
    the first SCAN_TOKENS tokens."""
    pos = len(text) - len(text.lstrip(" \t\n\r"))
    if not text.startswith("{", pos):
        return None
    refs: list[str | int | None] = []
    depth = 0
    for _ in range(SCAN_TOKENS):
        if pos >= len(text):
            break
        char = text[pos]
        if char == '"':
            string = _STRING.match(text, pos)
            if string is None:  # never closed: nothing after it can be read
                break
            pos = string.end()
            key_end = _KEY_END.match(text, pos) if depth == 1 else None
            if key_end is not None and string.group() == '"ref"':
                refs.append(_ref_value(text, key_end.end()))
        elif char in "[{":
            run = _run_end(_OPENERS, text, pos)
            depth += run - pos
            pos = run
        elif char in "]}":
            run = _run_end(_CLOSERS, text, pos)
            depth -= run - pos
            pos = run
            if depth <= 0:  # the frame's object ended; what follows is not its
                break
        else:
            pos = _run_end(_OTHER, text, pos)
    return refs[0] if len(refs) == 1 else None
