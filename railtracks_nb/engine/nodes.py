"""Node types: the :class:`Node` base class and ``@function_node``.

A node *type* is a class; ``rt.call(NodeType, *args, **kwargs)`` builds an
instance with those arguments and awaits its ``invoke()``. ``@function_node``
makes such a class from a plain function, and returns a function that still
behaves exactly like the original when called directly.
"""

from __future__ import annotations

import functools
import inspect
import re
import sys
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar, Literal, TypeVar

from ..core.callables import is_async_callable
from ..core.exceptions import NodeCreationError, NodeInvocationError

NodeKind = Literal["Tool", "Agent", "Other"]
#: What a node call runs: a coroutine, or a callable for a worker thread.
Work = Coroutine[Any, Any, Any] | Callable[[], Any]
F = TypeVar("F", bound=Callable[..., Any])
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")

__all__ = ["FunctionNode", "Node", "function_node", "resolve_node_type"]


class Node(ABC):
    """Base class for class-based nodes.

    The call's arguments reach the node in one of two ways, chosen from the
    signatures: ``async def invoke(self, *args, **kwargs)`` with an ``__init__``
    that takes none (the Railtracks 1.7 form), or ``__init__(self, ...)`` with an
    ``invoke(self)`` that takes none. A sync ``invoke`` is allowed and runs in a
    worker thread. Override ``name()`` and ``type()`` to describe the node.
    """

    @classmethod
    def name(cls) -> str:
        """The name shown in stamps, graphs and saved files."""
        return cls.__name__

    @classmethod
    def type(cls) -> NodeKind:
        """``"Tool"``, ``"Agent"`` or ``"Other"``."""
        return "Other"

    @abstractmethod
    def invoke(self, *args: Any, **kwargs: Any) -> Any:
        """Do the node's work and return its result (``async def`` recommended)."""

    # -- engine hook -------------------------------------------------------------
    @classmethod
    def prepare(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Work:
        """What ``rt.call`` will run: a coroutine (awaited on the loop) or, for a
        sync ``invoke``, a zero-argument callable (run in a worker thread).

        Raises a clear error when the arguments do not fit the node, before
        anything runs or is recorded.
        """
        signature = _invoke_signature(cls)
        if signature is not None:
            try:
                node = cls()
            except TypeError as exc:
                raise NodeCreationError(f"Could not create node {cls.name()!r}: {exc}") from exc
            try:
                signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise NodeInvocationError(
                    f"Bad arguments for node {cls.name()!r} (invoke{signature}): {exc}"
                ) from None
            if _has_sync_invoke(cls):
                return functools.partial(node.invoke, *args, **kwargs)
            return node.invoke(*args, **kwargs)
        try:
            node = cls(*args, **kwargs)
        except TypeError as exc:
            raise NodeCreationError(f"Could not create node {cls.name()!r}: {exc}") from exc
        if _has_sync_invoke(cls):
            return node.invoke
        return node.invoke()


_sync_invoke: dict[type, bool] = {}
_invoke_form: dict[type, inspect.Signature | None] = {}
_UNKNOWN = inspect.Signature()


def _has_sync_invoke(cls: type[Node]) -> bool:
    known = _sync_invoke.get(cls)
    if known is None:
        known = _sync_invoke[cls] = not inspect.iscoroutinefunction(cls.invoke)
    return known


def _signature_after_self(func: Any) -> inspect.Signature:
    """The signature of a method without ``self`` (empty when it cannot be read)."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return inspect.Signature()
    return signature.replace(parameters=list(signature.parameters.values())[1:])


def _requires_arguments(signature: inspect.Signature) -> bool:
    return any(
        p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        for p in signature.parameters.values()
    )


def _invoke_signature(cls: type[Node]) -> inspect.Signature | None:
    """The signature of ``invoke`` if ``cls`` takes the call's arguments there (the
    Railtracks 1.7 form), ``None`` if it takes them in ``__init__``. Decided once
    per class, from the two signatures."""
    known = _invoke_form.get(cls, _UNKNOWN)
    if known is not _UNKNOWN:
        return known
    init = _signature_after_self(cls.__init__) if cls.__init__ is not object.__init__ else None
    invoke = _signature_after_self(cls.invoke)
    init_required = init is not None and _requires_arguments(init)
    if init_required and _requires_arguments(invoke):
        raise NodeCreationError(
            f"Node {cls.name()!r} takes arguments both in __init__ and in invoke: take "
            "the call's arguments in `async def invoke(self, *args, **kwargs)` with an "
            "__init__ that needs none (as Railtracks 1.7 does), or in __init__ with an "
            "invoke(self) that takes none."
        )
    chosen = invoke if invoke.parameters and not init_required else None
    _invoke_form[cls] = chosen
    return chosen


class FunctionNode(Node):
    """A node made by ``@function_node`` from a plain function (type ``"Tool"``)."""

    _func: ClassVar[Callable[..., Any]]
    _func_is_async: ClassVar[bool]
    _signature: ClassVar[inspect.Signature | None]
    _name: ClassVar[str]

    @classmethod
    def name(cls) -> str:
        return cls._name

    @classmethod
    def type(cls) -> NodeKind:
        return "Tool"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs

    async def invoke(self) -> Any:
        """Run the function here (the engine itself runs sync functions in threads)."""
        result = self._func(*self.args, **self.kwargs)
        return await result if inspect.isawaitable(result) else result

    @classmethod
    def prepare(cls, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Work:
        if cls._func_is_async:
            # Calling an async function only binds its arguments: the body runs when
            # awaited. So a TypeError here is always a bad-arguments error, found
            # for free instead of by a Signature.bind on every call.
            try:
                return cls._func(*args, **kwargs)
            except TypeError as exc:
                raise cls._bad_arguments(args, kwargs, exc) from None
        if cls._signature is not None:
            try:
                cls._signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise cls._bad_arguments(args, kwargs, exc) from None
        return functools.partial(cls._func, *args, **kwargs)

    @classmethod
    def _bad_arguments(
        cls, args: tuple[Any, ...], kwargs: dict[str, Any], exc: TypeError
    ) -> NodeInvocationError:
        sig = cls._signature
        reason = str(exc)
        if sig is not None:
            try:
                sig.bind(*args, **kwargs)
            except TypeError as bind_error:
                reason = str(bind_error)
        shown = f"{cls._name}{sig}" if sig is not None else cls._name
        return NodeInvocationError(f"Bad arguments for node {cls._name!r} ({shown}): {reason}")


def _make_node_type(func: Callable[..., Any], name: str | None) -> type[FunctionNode]:
    if isinstance(func, type) and issubclass(func, Node):
        raise NodeCreationError(
            f"{func.__name__} is already a node class: pass it to rt.call directly "
            "instead of decorating it with @rt.function_node."
        )
    if not callable(func):
        raise NodeCreationError(
            f"@rt.function_node needs a function, got {func!r} ({type(func).__name__})."
        )
    if inspect.isasyncgenfunction(func) or inspect.isgeneratorfunction(func):
        raise NodeCreationError(
            f"@rt.function_node cannot wrap the generator function {func.__name__!r}: "
            "a node must return its result."
        )
    node_name = name or getattr(func, "__name__", None) or type(func).__name__
    if not isinstance(node_name, str) or not node_name:
        raise NodeCreationError(f"A node name must be a non-empty str, got {node_name!r}.")
    if _CONTROL.search(node_name):
        raise NodeCreationError(
            f"A node name must be printable text, got {node_name!r}: it contains a control "
            "character (names appear in stamps, logs, saved files and exports)."
        )
    try:
        signature: inspect.Signature | None = inspect.signature(func)
    except (TypeError, ValueError):  # some builtins have no signature
        signature = None
    return type(
        f"{node_name}_FunctionNode",
        (FunctionNode,),
        {
            "_func": staticmethod(func),
            "_func_is_async": is_async_callable(func),
            "_signature": signature,
            "_name": node_name,
            "__module__": getattr(func, "__module__", __name__),
            "__doc__": getattr(func, "__doc__", None),
        },
    )


def function_node(func: F | None = None, /, *, name: str | None = None) -> Any:
    """Turn a function (sync or async) into a node type.

    Use as ``@rt.function_node`` or ``@rt.function_node(name="...")``. The
    result is still an ordinary function: calling it directly runs the
    original; ``rt.call(it, ...)`` runs it as a node (a sync function in a
    worker thread, so it never blocks the event loop). ``.node_type`` holds the
    node class.
    """
    if func is None:
        return lambda f: function_node(f, name=name)
    node_type = _make_node_type(func, name)
    return node_callable(func, node_type, is_async=node_type._func_is_async)


def node_callable(func: Callable[..., Any], node_type: type[Node], *, is_async: bool) -> Any:
    """``func`` as a plain callable (async when ``is_async``) that carries ``node_type``:
    calling it runs ``func``; ``rt.call(it, ...)`` runs it as that node."""
    if is_async:

        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            return await func(*args, **kwargs)

    else:

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return func(*args, **kwargs)

    wrapper.node_type = node_type  # type: ignore[attr-defined]
    return wrapper


# Plain functions passed to rt.call without the decorator get a node type once.
_auto: weakref.WeakKeyDictionary[Any, type[FunctionNode]] = weakref.WeakKeyDictionary()


def resolve_node_type(node: Any) -> type[Node]:
    """The node class for what was passed to ``rt.call`` (class, decorated or plain function)."""
    if isinstance(node, type):
        if issubclass(node, Node):
            return node
        raise NodeCreationError(
            f"{node.__name__} is not a node: subclass rt.nodes.Node or decorate a function "
            "with @rt.function_node."
        )
    node_type = getattr(node, "node_type", None)
    if isinstance(node_type, type) and issubclass(node_type, Node):
        return node_type
    if isinstance(node, Node):
        raise NodeCreationError(
            f"rt.call takes a node type, not an instance: pass {type(node).__name__} and its "
            "arguments, e.g. rt.call(MyNode, 'input')."
        )
    if not callable(node):
        raise NodeCreationError(
            f"rt.call needs a node (a Node subclass or a function), got {node!r} "
            f"({type(node).__name__})."
        )
    try:
        return _auto[node]
    except (KeyError, TypeError):
        pass
    made = _make_node_type(node, None)
    try:
        _auto[node] = made
    except TypeError:  # not weak-referenceable (some builtins): make it each time
        pass
    return made


# Railtracks 1.7 keeps Node in the module ``railtracks.nodes.nodes``, so code written for
# it says ``rt.nodes.nodes.Node``: that name works here too.
nodes = sys.modules[__name__]
