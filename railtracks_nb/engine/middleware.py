"""Node middleware, as in Railtracks 1.7: ``rt.wrap_node``, ``rt.post_node``,
``rt.after_node`` and ``rt.couple``.

A middleware is an async function ``fn(call, *args, **kwargs)`` that receives
the next callable of the chain (``call``) and the node call's arguments; it may
change the arguments, retry, or replace the result. ``rt.couple(node,
middleware=[A, B])`` returns a *new* node (the one passed in never changes)
whose calls run ``A -> B -> node -> B -> A``; coupling again adds an outer
layer. Middleware runs inside the node's request, after its ``CREATED`` stamp,
so whatever it does is part of that node in the state.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import warnings
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

from .nodes import Node, Work, node_callable, resolve_node_type

__all__ = [
    "Middleware",
    "Verdict",
    "VerifierAction",
    "VerifierDecision",
    "VerifierRejectedError",
    "after_node",
    "couple",
    "post_node",
    "wrap_node",
]


class Middleware:
    """An async ``fn(call, *args, **kwargs)`` that wraps a node's invocation.

    ``fn`` must be an ``async def`` function; anything else is a ``TypeError``
    when the middleware is made, not when a node runs.
    """

    def __init__(self, fn: Callable[..., Awaitable[Any]], name: str | None = None) -> None:
        if not callable(fn):
            raise TypeError(f"Middleware function must be callable, got {fn!r}")
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(
                f"Middleware function must be an async function (coroutine function): {fn!r}"
            )
        self._fn = fn
        self.name = name if name is not None else getattr(fn, "__name__", type(fn).__name__)

    def wrap(self, inner: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """``inner`` with this middleware around it."""
        fn = self._fn

        async def wrapped(*args: Any, **kwargs: Any) -> Any:
            return await fn(inner, *args, **kwargs)

        return wrapped

    def middleware_type(self) -> str:
        return "General"

    def __repr__(self) -> str:
        return f"Middleware({self.name})"


def wrap_node(
    fn: Callable[..., Awaitable[Any]] | None = None, /, *, name: str | None = None
) -> Any:
    """``@rt.wrap_node`` or ``@rt.wrap_node(name=...)``: make a :class:`Middleware`
    from ``async def fn(call, *args, **kwargs)``."""
    if fn is None:
        return lambda f: Middleware(f, name=name)
    return Middleware(fn, name=name)


def post_node(fn: Callable[[Any], Any] | None = None, /, *, name: str | None = None) -> Any:
    """``@rt.post_node``: a middleware that passes a node's result through ``fn(result)``
    (sync or async) once the node succeeded. It does not run when the node raises."""
    if fn is None:
        return lambda f: post_node(f, name=name)
    if not callable(fn):
        raise TypeError(f"post_node needs a function, got {fn!r}")

    @functools.wraps(fn)
    async def post(call: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        result = fn(await call(*args, **kwargs))
        return await result if inspect.isawaitable(result) else result

    return Middleware(post, name=name if name is not None else getattr(fn, "__name__", None))


def after_node(fn: Callable[[Any], Any] | None = None, /, *, name: str | None = None) -> Any:
    """Deprecated name of :func:`post_node` (Railtracks 1.7 warns the same way)."""
    warnings.warn(
        "rt.after_node is renamed: use rt.post_node instead (the function itself is unchanged).",
        FutureWarning,
        stacklevel=2,
    )
    return post_node(name=name) if fn is None else post_node(fn, name=name)


def _run_work(work: Work) -> Awaitable[Any]:
    """Await what ``Node.prepare`` returned: a coroutine, or a callable for a worker
    thread (``asyncio.to_thread`` copies the context, so the node sees its session)."""
    if inspect.isawaitable(work):
        return work
    return asyncio.to_thread(work)


def _same(given: Any, original: Any) -> bool:
    """Whether a middleware passed the call's own arguments on (identity, not ``==``:
    comparing arbitrary values can be slow or raise)."""
    if len(given) != len(original):
        return False
    if isinstance(given, dict):
        return all(k in original and given[k] is original[k] for k in given)
    return all(x is y for x, y in zip(given, original, strict=True))


def _coupled_type(node_type: type[Node], middleware: tuple[Middleware, ...]) -> type[Node]:
    """A subclass of ``node_type`` whose calls run through ``middleware`` (outermost
    first) and then through any middleware ``node_type`` already had."""
    plain: Callable[[tuple[Any, ...], dict[str, Any]], Work] = getattr(
        node_type, "_plain_prepare", node_type.prepare
    )
    chain = (*middleware, *getattr(node_type, "_middleware", ()))

    def prepare(cls: type[Node], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Work:
        first: Work | None = plain(args, kwargs)  # bad arguments fail here, not at run time

        async def core(*a: Any, **kw: Any) -> Any:
            nonlocal first
            if first is not None and _same(a, args) and _same(kw, kwargs):
                work, first = first, None
            else:  # a middleware changed the arguments, or called the node again
                work = plain(a, kw)
            return await _run_work(work)

        async def through_chain() -> Any:
            call: Callable[..., Awaitable[Any]] = core
            for m in reversed(chain):
                call = m.wrap(call)
            try:
                return await call(*args, **kwargs)
            finally:
                if first is not None and inspect.iscoroutine(first):
                    first.close()  # a middleware that never called the node

        return through_chain()

    return type(
        node_type.__name__,
        (node_type,),
        {
            "prepare": classmethod(prepare),
            "_plain_prepare": staticmethod(plain),
            "_middleware": chain,
            "__module__": node_type.__module__,
            "__doc__": node_type.__doc__,
        },
    )


def couple(
    node: Any,
    *,
    middleware: Iterable[Middleware] | None = None,
    model_middleware: Iterable[Any] | None = None,
) -> Any:
    """A new node with ``middleware`` attached (the node passed in is not changed).

    Works for ``Node`` subclasses (returns a subclass) and ``@rt.function_node``
    functions (returns a function that behaves as the original when called
    directly and runs the middleware when called through ``rt.call``).
    ``model_middleware`` wraps LLM calls, which are outside this package's scope.
    """
    if model_middleware is not None:
        raise NotImplementedError(
            "rt.couple(model_middleware=...) wraps LLM calls; LLMs and agents are outside "
            "railtracks_nb's scope (it covers the Railtracks session system)."
        )
    layers = tuple(middleware or ())
    for m in layers:
        if not isinstance(m, Middleware):
            raise TypeError(
                f"rt.couple middleware must be made with rt.wrap_node or rt.post_node, got {m!r}"
            )
    if not layers:
        return node
    node_type = resolve_node_type(node)
    coupled = _coupled_type(node_type, layers)
    if isinstance(node, type):
        return coupled
    original = getattr(node, "__wrapped__", node)
    return node_callable(original, coupled, is_async=inspect.iscoroutinefunction(node))


# -- verifier types, as in Railtracks 1.7's ``railtracks.middleware`` ----------------------
# Plain node-middleware vocabulary: a middleware that reviews a call returns a
# Verdict and raises VerifierRejectedError on a decline. (Railtracks' prebuilt
# pre_verifier/post_verifier live in its rt.prebuilt, which is out of scope.)
_R = TypeVar("_R")


@dataclass
class Verdict(Generic[_R]):
    """A review of a node call: accepted or not, with an optional comment.

    ``args``/``kwargs`` (before the call) or ``result`` (after it) replace what is
    forwarded, when given.
    """

    accepted: bool
    comment: str | None = None
    args: tuple | None = None
    kwargs: dict | None = None
    result: _R | None = None


class VerifierRejectedError(Exception):
    """A verifier declined a node call."""


class VerifierAction(str, Enum):
    """What a verifier concluded."""

    ACCEPT = "accept"
    DECLINE = "decline"


@dataclass(frozen=True)
class VerifierDecision:
    """A summary of a :class:`Verdict` (Railtracks 1.7's is a pydantic model of the
    same fields; this is a frozen dataclass, so importing the engine stays fast)."""

    action: VerifierAction
    reason: str | None = None
    overridden: bool = False
    timeout: bool = False

    @classmethod
    def from_verdict(
        cls, verdict: Verdict, *, overridden: bool, timeout: bool = False
    ) -> VerifierDecision:
        """The decision ``verdict`` stands for."""
        action = VerifierAction.ACCEPT if verdict.accepted else VerifierAction.DECLINE
        return cls(action, verdict.comment, overridden, timeout)
