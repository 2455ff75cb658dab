"""railtracks_nb: the Railtracks session system, native in Jupyter.

``import railtracks_nb as rt`` gives the engine (function nodes, ``rt.call``,
``rt.Session``, ``@rt.session``, ``rt.Flow``, context, publisher, execution
state, saved state). The notebook layer (``%load_ext railtracks_nb``), the
widgets and the exports are imported on first use, so importing the engine
stays fast and needs no IPython.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import context, middleware, nodes
from .call import broadcast, call, call_batch, call_sync
from .compat import OutOfScopeError, out_of_scope
from .context import escape_braces, prompt
from .exceptions import (
    AmbiguousSessionError,
    ConfigError,
    ContextError,
    GlobalTimeOutError,
    NodeCreationError,
    NodeInvocationError,
    RemixError,
    RTError,
    SavedStateError,
    SessionLookupError,
    SessionSaveError,
    SessionStateError,
    SessionStoreError,
    UnknownSessionError,
)

# Imported eagerly (pure Python, ~10 ms): a lazy `export` would be shadowed by the
# submodule of the same name as soon as anything imported `railtracks_nb.export`.
from .export import export
from .flow import Flow
from .lifecycle import SessionState
from .logs import enable_logging
from .middleware import after_node, couple, post_node, wrap_node
from .nodes import function_node
from .persistence import SavedSession, load
from .publisher import RTPublisher
from .scope import session_id
from .session import Session, session
from .state import ExecutionInfo, NodeForest, RequestForest, Stamp, StampManager

__version__ = "0.1.0"

# Names served from modules that import IPython, anywidget or plotly: loaded on first use.
_LAZY: dict[str, str] = {
    # pydantic costs ~0.15 s to import: configuration loads on first use.
    "ExecutorConfig": "railtracks_nb.config",
    "set_config": "railtracks_nb.config",
    "get_config": "railtracks_nb.config",
    "reset_config": "railtracks_nb.config",
    "show": "railtracks_nb.widgets",
    "GraphView": "railtracks_nb.widgets",
    "TimelineView": "railtracks_nb.widgets",
    "StateView": "railtracks_nb.widgets",
    "SessionDashboard": "railtracks_nb.widgets",
    "plot_graph": "railtracks_nb.figures",
    "plot_timeline": "railtracks_nb.figures",
    "sessions": "railtracks_nb.store",
    "rename_session": "railtracks_nb.store",
    "tag_session": "railtracks_nb.store",
    "delete_session": "railtracks_nb.store",
    "restore_session": "railtracks_nb.store",
    "remix": "railtracks_nb.remixing",
    "find_session": "railtracks_nb.store",
    "SessionRecord": "railtracks_nb.store",
    "SessionList": "railtracks_nb.store",
    "FlowConnection": "railtracks_nb.connection",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        error = out_of_scope(name)  # a Railtracks 1.7 LLM/agent/... name: say so
        if error is not None:
            raise error
        raise AttributeError(f"module 'railtracks_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext railtracks_nb``: register the ``%%rt_session`` magic."""
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext railtracks_nb``."""
    from .magics import unload_ipython_extension as unload

    unload(ipython)


__all__ = [
    "AmbiguousSessionError",
    "RemixError",
    "SessionLookupError",
    "SessionStoreError",
    "UnknownSessionError",
    "ConfigError",
    "ContextError",
    "ExecutionInfo",
    "Flow",
    "GlobalTimeOutError",
    "NodeCreationError",
    "OutOfScopeError",
    "NodeForest",
    "NodeInvocationError",
    "RTError",
    "RTPublisher",
    "RequestForest",
    "SavedSession",
    "SavedStateError",
    "Session",
    "SessionSaveError",
    "SessionState",
    "SessionStateError",
    "Stamp",
    "StampManager",
    "__version__",
    "broadcast",
    "call",
    "call_batch",
    "call_sync",
    "context",
    "export",
    "function_node",
    "load",
    "load_ipython_extension",
    "after_node",
    "couple",
    "enable_logging",
    "escape_braces",
    "middleware",
    "nodes",
    "post_node",
    "prompt",
    "session",
    "session_id",
    "wrap_node",
    "unload_ipython_extension",
    *_LAZY,
]
