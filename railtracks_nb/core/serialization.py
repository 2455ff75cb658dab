"""Turning arbitrary node inputs and outputs into JSON that never crashes.

Saved files, exports and widgets all carry values produced by user code:
objects, bytes, exceptions, NaN, self-referencing containers. Every value is
encoded into plain JSON here; whatever has no JSON form becomes a readable
string (its ``repr``), so a save can never fail because of what a node returned.
"""

from __future__ import annotations

import dataclasses
import math
import traceback
from collections.abc import Iterable, Mapping
from typing import Any, cast

_MAX_DEPTH = 64
_MAX_REPR = 10_000
#: Ints with more bits than this are not written out: ``str()`` of an int over
#: 4,300 digits raises ``ValueError`` (``sys.int_info.str_digits_check_threshold``),
#: and one that long is not worth reading in a saved file anyway.
_MAX_INT_BITS = 4_000 * 3.3219  # about 4,000 decimal digits


def safe_str(value: Any) -> str:
    """``str(value)``, or a readable placeholder when its ``__str__`` raises."""
    try:
        return str(value)
    except Exception as exc:
        return f"<unprintable {type(value).__name__}: {type(exc).__name__} in __str__>"


def _placeholder(value: Any, exc: BaseException) -> str:
    """What is written for a value whose encoding failed (never the failure itself)."""
    return f"<unserialisable {type(value).__name__}: {type(exc).__name__}: {safe_str(exc)[:200]}>"


def _big_int(value: int) -> Any:
    if value.bit_length() <= _MAX_INT_BITS:
        return value
    digits = int(value.bit_length() * 0.30103) + 1
    return f"<int with about {digits} digits>"


def _safe_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not break a save
        text = f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>"
    if len(text) > _MAX_REPR:
        text = text[:_MAX_REPR] + f"... <{len(text) - _MAX_REPR} more characters>"
    return text


def error_to_json(error: BaseException, *, chain: bool = True) -> dict[str, str]:
    """The form Railtracks saves a failure in: type, message and traceback.

    Never raises: an exception whose ``__str__`` raises gets a placeholder
    message. ``chain=False`` leaves out its cause and context (the caller
    stores those elsewhere).
    """
    try:
        text = "".join(
            traceback.format_exception(type(error), error, error.__traceback__, chain=chain)
        )
    except Exception as exc:  # a broken exception must not break a save
        text = f"<traceback unavailable: {type(exc).__name__}>"
    return {"type": type(error).__name__, "message": safe_str(error), "traceback": text}


def to_jsonable(value: Any) -> Any:
    """Return ``value`` as JSON-compatible data (dicts, lists, str, numbers, bool, None).

    Containers are walked; cycles become ``"<cycle: list>"``; floats that JSON
    cannot hold (NaN, ±inf) become strings; exceptions become the Railtracks
    error dict; pydantic models and dataclasses become dicts; anything else
    becomes its ``repr``. Nothing raises: a value whose encoding fails (a
    mapping whose iteration raises, an int too long to print) becomes a
    readable placeholder such as ``"<unserialisable Broken: ValueError: ...>"``.
    """
    return _encode(value, set(), 0)


def _encode(value: Any, seen: set[int], depth: int) -> Any:
    try:
        return _encode_unsafe(value, seen, depth)
    except Exception as exc:
        return _placeholder(value, exc)


def _encode_unsafe(value: Any, seen: set[int], depth: int) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return _big_int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth >= _MAX_DEPTH:
        return _safe_repr(value)
    if isinstance(value, BaseException):
        return error_to_json(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _safe_repr(bytes(value))
    marker = id(value)
    # A dataclass instance is walked; a dataclass class is not (it is a plain value).
    is_dataclass = dataclasses.is_dataclass(value) and not isinstance(value, type)
    if isinstance(value, (Mapping, list, tuple, set, frozenset)) or is_dataclass:
        if marker in seen:
            return f"<cycle: {type(value).__name__}>"
        seen.add(marker)
        try:
            if isinstance(value, Mapping):
                return {
                    (k if isinstance(k, str) else _key(k)): _encode(v, seen, depth + 1)
                    for k, v in value.items()
                }
            if is_dataclass:
                return {
                    f.name: _encode(getattr(value, f.name, None), seen, depth + 1)
                    for f in dataclasses.fields(value)
                }
            if isinstance(value, (set, frozenset)):
                items = [_encode(v, seen, depth + 1) for v in value]
                try:
                    return sorted(items)
                except TypeError:
                    return items
            return [_encode(v, seen, depth + 1) for v in cast(Iterable[Any], value)]
        finally:
            seen.discard(marker)
    dump = getattr(value, "model_dump", None)  # pydantic v2 models
    if callable(dump) and not isinstance(value, type):
        try:
            return _encode(dump(mode="json"), seen, depth + 1)
        except Exception:
            pass
    return _safe_repr(value)


def _key(key: Any) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return str(_big_int(key))
    if isinstance(key, (float, bool)) or key is None:
        return str(key)  # json.dumps would do the same for these
    return _safe_repr(key)
