"""Finding a node type by the name it was saved under.

A saved session records its entry node only by name (``runs[0].name``).
``rt.remix`` needs the node type back. Every node type is a subclass of
:class:`~railtracks_nb.engine.nodes.Node` (``@function_node`` makes a subclass of
``FunctionNode``), and Python keeps a weak list of each class's subclasses, so
walking that tree finds every node type this process still has, without a
registry that would have to be fed at decoration time and would keep dead
classes alive.
"""

from __future__ import annotations

from ..core.exceptions import RemixError
from .nodes import FunctionNode, Node


def node_types() -> list[type[Node]]:
    """Every concrete node type alive in this process, oldest first."""
    seen: dict[type[Node], None] = {}
    stack: list[type[Node]] = [Node]  # type: ignore[type-abstract]  # only subclasses are kept
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen[sub] = None
                stack.append(sub)
    return [cls for cls in seen if _name_of(cls) is not None]


def _name_of(cls: type[Node]) -> str | None:
    if cls is FunctionNode:
        return None
    try:
        name = cls.name()
    except Exception:  # an abstract helper class whose name() needs attributes it lacks
        return None
    return name if isinstance(name, str) else None


def _origin(cls: type[Node]) -> tuple[str, str]:
    """Where a node type was defined: the function's (or class's) module and qualified name."""
    target = getattr(cls, "_func", cls) if issubclass(cls, FunctionNode) else cls
    return (
        getattr(target, "__module__", "?") or "?",
        getattr(target, "__qualname__", getattr(target, "__name__", "?")),
    )


def find_node_type(name: str) -> type[Node]:
    """The node type whose ``name()`` is ``name``.

    A name defined several times from the same place (a notebook cell run
    again) resolves to the newest definition. Several node types of that name
    defined in different places raise :class:`RemixError` listing them; so
    does a name no live node type has.
    """
    matches = [cls for cls in node_types() if _name_of(cls) == name]
    if not matches:
        raise RemixError(
            f"No node type named {name!r} is defined in this process. Run the cell or import "
            f"the module that defines it, or pass entry_point=... explicitly."
        )
    origins = {_origin(cls) for cls in matches}
    if len(origins) > 1:
        where = ", ".join(f"{mod}.{qual}" for mod, qual in sorted(origins))
        raise RemixError(
            f"Several node types are named {name!r} ({where}); pass entry_point=... to choose one."
        )
    # Same origin, redefined: they share a base class, whose __subclasses__() lists
    # them in creation order, and node_types() keeps that order, so the last is newest.
    return matches[-1]
