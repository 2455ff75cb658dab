"""Railtracks 1.7's ready-made node middleware (``rt.prebuilt.middleware``).

``pre_verifier`` and ``post_verifier`` gate a node call with a review that
returns a :class:`~railtracks_nb.middleware.Verdict`; ``Timeout``, ``Lock`` and
``MaxCalls`` bound, serialize and count calls. Use them as any middleware:
``rt.couple(node, middleware=[...])``. The ones made for LLM nodes
(``Retry``, ``ContextInjection``, ``ConversationMemory``) are out of scope.
Unlike Railtracks, no observability events are emitted (observability is out
of scope): what a verifier decided is seen in the node's result or error.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from ...core.compat import out_of_scope
from ..middleware import Middleware, Verdict, VerifierRejectedError, wrap_node
from ..scope import session_id

logger = logging.getLogger("RT.Middleware")

__all__ = ["Lock", "MaxCalls", "MaxCallsExceededError", "Timeout", "post_verifier", "pre_verifier"]


async def _review(review: Any, timeout: float | None) -> tuple[Verdict, bool]:
    """The verdict of ``review`` (a verdict or an awaitable one), and whether it came
    from running out of time (a decline commented "timeout", as in Railtracks)."""
    if not inspect.isawaitable(review):
        return review, False
    try:
        return await asyncio.wait_for(review, timeout), False
    except asyncio.TimeoutError:
        return Verdict(accepted=False, comment="timeout"), True


def pre_verifier(
    approve_fn: Callable[..., Any] | None = None,
    /,
    *,
    timeout: float | None = None,
    name: str | None = None,
) -> Any:
    """A middleware that asks ``approve_fn(*args, **kwargs)`` (sync or async) for a
    :class:`Verdict` before the node runs: a decline raises
    :class:`VerifierRejectedError` and the node never runs; an accept runs it, with
    the verdict's ``args``/``kwargs`` when it gives them. No verdict within
    ``timeout`` seconds is a decline. Also a decorator: ``@pre_verifier(timeout=5)``.
    """
    if approve_fn is None:
        return lambda fn: pre_verifier(fn, timeout=timeout, name=name)

    @functools.wraps(approve_fn)
    async def verified(call: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        verdict, _ = await _review(approve_fn(*args, **kwargs), timeout)
        if not verdict.accepted:
            raise VerifierRejectedError(verdict.comment or "rejected")
        if verdict.comment:
            logger.info("pre_verifier accepted with comment: %s", verdict.comment)
        new_args = verdict.args if verdict.args is not None else args
        new_kwargs = verdict.kwargs if verdict.kwargs is not None else kwargs
        return await call(*new_args, **new_kwargs)

    return wrap_node(verified, name=name)


def _require_result_first(approve_fn: Callable[..., Any]) -> None:
    params = list(inspect.signature(approve_fn).parameters.values())
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if not (params and params[0].name == "result" and params[0].kind in positional):
        got = params[0].name if params else "no parameters"
        raise TypeError(
            "post_verifier's approve_fn must take `result` as its first positional "
            f"parameter, got {got!r}. post_verifier calls approve_fn(result, *args, "
            "**kwargs), e.g.:\n    def approve(result, *args, **kwargs) -> Verdict: ..."
        )


def post_verifier(
    approve_fn: Callable[..., Any] | None = None,
    /,
    *,
    timeout: float | None = None,
    name: str | None = None,
) -> Any:
    """A middleware that runs the node, then asks ``approve_fn(result, *args,
    **kwargs)`` (sync or async) for a :class:`Verdict`: a decline raises
    :class:`VerifierRejectedError` instead of returning the result; an accept
    returns it, or the verdict's ``result`` when it gives one. ``approve_fn`` must
    take ``result`` first (a ``TypeError`` here otherwise). No verdict within
    ``timeout`` seconds is a decline.
    """
    if approve_fn is None:
        return lambda fn: post_verifier(fn, timeout=timeout, name=name)
    _require_result_first(approve_fn)

    @functools.wraps(approve_fn)
    async def verified(call: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        result = await call(*args, **kwargs)
        verdict, _ = await _review(approve_fn(result, *args, **kwargs), timeout)
        if not verdict.accepted:
            raise VerifierRejectedError(verdict.comment or "rejected")
        if verdict.comment:
            logger.info("post_verifier accepted with comment: %s", verdict.comment)
        return verdict.result if verdict.result is not None else result

    return wrap_node(verified, name=name)


class Timeout(Middleware):
    """Fail the wrapped call with :class:`TimeoutError` when it runs longer than
    ``seconds`` (the call is cancelled)."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        super().__init__(self._bounded, name="Timeout")

    async def _bounded(self, call: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.wait_for(call(*args, **kwargs), timeout=self._seconds)


class Lock(Middleware):
    """Run the wrapped calls one at a time; share one instance between nodes that must
    not run concurrently."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        super().__init__(self._serialized, name="Lock")

    async def _serialized(
        self, call: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> Any:
        async with self._lock:
            return await call(*args, **kwargs)


class MaxCallsExceededError(Exception):
    """A :class:`MaxCalls`-wrapped call was made past its limit."""


#: Counters outlive their session so a finished run's budget stays readable; only
#: this many of the most recent sessions are kept (as in Railtracks).
_MAX_TRACKED_SESSIONS = 64


class MaxCalls(Middleware):
    """Fail the wrapped call with :class:`MaxCallsExceededError` once it was made
    ``max_calls`` times in the session (counted per session; one instance shared by
    several nodes is one budget for all of them)."""

    def __init__(self, max_calls: int, custom_message: str | None = None) -> None:
        self._max_calls = max_calls
        self._custom_message = custom_message
        self._session_counts: OrderedDict[str | None, int] = OrderedDict()
        self._last_session_id: str | None = None
        super().__init__(self._counted, name="MaxCalls")

    @property
    def max_calls(self) -> int:
        """How many calls are allowed."""
        return self._max_calls

    def _inspection_key(self) -> str | None:
        current = session_id()
        return current if current is not None else self._last_session_id

    @property
    def call_count(self) -> int:
        """Calls in the running session, or in the last one that counted (outside a
        session); 0 for a session no longer tracked."""
        return self._session_counts.get(self._inspection_key(), 0)

    def reset(self) -> None:
        """Forget the count :attr:`call_count` reads."""
        self._session_counts.pop(self._inspection_key(), None)

    def reset_all(self) -> None:
        """Forget every session's count."""
        self._session_counts.clear()
        self._last_session_id = None

    async def _counted(self, call: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        sid = session_id()
        count = self._session_counts.get(sid, 0)
        if count >= self._max_calls:
            raise MaxCallsExceededError(self._custom_message or "Maximum number of calls exceeded")
        self._session_counts[sid] = count + 1
        self._session_counts.move_to_end(sid)
        self._last_session_id = sid
        while len(self._session_counts) > _MAX_TRACKED_SESSIONS:
            self._session_counts.popitem(last=False)
        return await call(*args, **kwargs)


def __getattr__(name: str) -> Any:
    error = out_of_scope(f"prebuilt.middleware.{name}")
    if error is not None:
        raise error
    raise AttributeError(f"module 'railtracks_nb.prebuilt.middleware' has no attribute {name!r}")
