"""``rt.context``: key/value variables shared by every node of a session.

The store belongs to the current session: nodes in gathered tasks and sync
nodes in worker threads all see (and change) the same dictionary, and another
session running at the same time has its own.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from typing import Any

from ..core.exceptions import ContextError
from .scope import current_session

__all__ = ["delete", "escape_braces", "get", "keys", "put", "update"]

_MISSING = object()


def _store(action: str) -> dict[str, Any]:
    session = current_session()
    if session is None:
        raise ContextError(
            f"rt.context.{action}() needs a session: call it inside a node run by "
            "rt.call, a Flow, `with rt.Session()` or `@rt.session`."
        )
    return session.live_context


def get(key: str, default: Any = _MISSING) -> Any:
    """The value of ``key`` in the session's context.

    A missing key (never set, or deleted) returns ``default`` when one is given
    and raises ``KeyError`` naming the key otherwise, as in Railtracks.
    """
    store = _store("get")
    try:
        return store[key]
    except KeyError:
        if default is not _MISSING:
            return default
        raise KeyError(
            f"{key!r} is not in the session context; pass a default, "
            f"rt.context.get({key!r}, None), to get one instead"
        ) from None


def put(key: str, value: Any) -> None:
    """Set ``key`` to ``value`` in the session's context."""
    _store("put")[key] = value


def update(values: Mapping[str, Any]) -> None:
    """Set every key of ``values`` in the session's context."""
    if not isinstance(values, Mapping):
        raise TypeError(f"rt.context.update() needs a mapping, got {type(values).__name__}")
    _store("update").update(values)


def delete(key: str) -> None:
    """Remove ``key`` from the session's context; a missing key raises ``KeyError``."""
    store = _store("delete")
    try:
        del store[key]
    except KeyError:
        raise KeyError(f"{key!r} is not in the session context") from None


def keys() -> list[str]:
    """The keys of the session's context."""
    return list(_store("keys"))


def _fill(template: str, values: Mapping[str, Any]) -> str:
    """Replace ``{key}`` with ``values[key]``; leave unknown keys and odd fields as written."""
    out: list[str] = []
    formatter = string.Formatter()
    try:
        parsed: Iterable[tuple[str, str | None, str | None, str | None]] = list(
            formatter.parse(template)
        )
    except ValueError:  # unbalanced braces: not a template, leave it alone
        return template
    for literal, field, spec, conversion in parsed:
        out.append(literal)
        if field is None:
            continue
        original = (
            "{"
            + field
            + (f"!{conversion}" if conversion else "")
            + (f":{spec}" if spec else "")
            + "}"
        )
        value = values.get(field, _MISSING) if field.isidentifier() else _MISSING
        if value is _MISSING:
            out.append(original)
            continue
        try:
            if conversion:
                value = formatter.convert_field(value, conversion)
            out.append(formatter.format_field(value, spec or ""))
        except (ValueError, TypeError):
            out.append(original)
    return "".join(out)


def escape_braces(text: str) -> str:
    """``text`` with every ``{`` and ``}`` doubled, so :func:`prompt` leaves it as written
    (for untrusted text put into a template)."""
    if not isinstance(text, str):
        raise TypeError(f"escape_braces() needs a str, got {type(text).__name__}")
    return text.replace("{", "{{").replace("}", "}}")


def prompt(template: str) -> str:
    """Fill ``{key}`` placeholders in ``template`` from the session context.

    Unknown keys are left as written. Outside a session, or in a session with
    ``prompt_injection=False``, the template is returned unchanged.
    """
    if not isinstance(template, str):
        raise TypeError(f"rt.prompt() needs a str, got {type(template).__name__}")
    session = current_session()
    if session is None or not session.executor_config.prompt_injection:
        return template
    return _fill(template, session.live_context)
