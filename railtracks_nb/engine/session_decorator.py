"""``@rt.session``: run an async function in a fresh :class:`~.session.Session`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from .session import Session

__all__ = ["session"]


def session(func: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Wrap an async function in a fresh :class:`Session`; calling it returns ``(result, session)``.

    Use as ``@rt.session`` or ``@rt.session(timeout=30, name="run", ...)`` with
    the options of :class:`Session`.
    """
    if func is None:
        Session(**options)  # validate the options now, not at the first call
        return lambda f: session(f, **options)
    if not inspect.iscoroutinefunction(func):
        what = getattr(func, "__name__", repr(func))
        raise TypeError(
            f"@rt.session works only on async functions; {what!r} is not one. "
            f"Define it with `async def`, or use `with rt.Session(): ...` in sync code."
        )

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> tuple[Any, Session]:
        async with Session(**options) as sess:
            result = await func(*args, **kwargs)
        return result, sess

    return wrapper
