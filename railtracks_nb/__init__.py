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

from .core.compat import OutOfScopeError, out_of_scope
from .core.exceptions import (
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
from .engine import context, middleware, nodes, prebuilt
from .engine.call import broadcast, call, call_batch, call_sync
from .engine.context import escape_braces, prompt
from .engine.flow import Flow
from .engine.lifecycle import SessionState
from .engine.logs import enable_logging
from .engine.middleware import after_node, couple, post_node, wrap_node
from .engine.nodes import function_node
from .engine.publisher import RTPublisher
from .engine.scope import session_id
from .engine.session import Session
from .engine.session_decorator import session
from .execution.forest import NodeForest, RequestForest
from .execution.stamps import Stamp, StampManager
from .execution.state import ExecutionInfo
from .execution.views import use_presenter
from .notebook.presenter import NotebookPresenter
from .store.loading import SavedSession, load

__version__ = "0.1.0"

# The execution layer draws its views through the notebook layer without importing it.
use_presenter(NotebookPresenter())

# Names served from modules that import IPython, anywidget or plotly: loaded on first use.
_LAZY: dict[str, str] = {
    # pydantic costs ~0.15 s to import: configuration loads on first use.
    "ExecutorConfig": "railtracks_nb.core.config",
    "set_config": "railtracks_nb.core.config",
    "get_config": "railtracks_nb.core.config",
    "reset_config": "railtracks_nb.core.config",
    "export": "railtracks_nb.notebook.export",
    "show": "railtracks_nb.notebook.widgets",
    "GraphView": "railtracks_nb.notebook.widgets",
    "TimelineView": "railtracks_nb.notebook.widgets",
    "StateView": "railtracks_nb.notebook.widgets",
    "SessionDashboard": "railtracks_nb.notebook.widgets",
    "plot_graph": "railtracks_nb.notebook.figures",
    "plot_timeline": "railtracks_nb.notebook.figures",
    "sessions": "railtracks_nb.store.sessions",
    "rename_session": "railtracks_nb.store.sessions",
    "tag_session": "railtracks_nb.store.sessions",
    "delete_session": "railtracks_nb.store.sessions",
    "restore_session": "railtracks_nb.store.sessions",
    "remix": "railtracks_nb.engine.remix",
    "find_session": "railtracks_nb.store.sessions",
    "SessionRecord": "railtracks_nb.store.sessions",
    "SessionList": "railtracks_nb.store.sessions",
    "FlowConnection": "railtracks_nb.engine.connection",
    "BatchDashboard": "railtracks_nb.notebook.batch",
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
    from .notebook.magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext railtracks_nb``."""
    from .notebook.magics import unload_ipython_extension as unload

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
    "prebuilt",
    "prompt",
    "session",
    "session_id",
    "wrap_node",
    "unload_ipython_extension",
    *_LAZY,
]
