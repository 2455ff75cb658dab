"""The errors the engine raises, each naming what went wrong."""

from __future__ import annotations

from typing import Any


class RTError(Exception):
    """Base class of every error raised by railtracks_nb itself."""


class NodeCreationError(RTError, TypeError):
    """A node type could not be made, or a node instance could not be built.

    Raised at decoration time (``@rt.function_node`` on something that is not a
    function) or at call time when the arguments do not fit the node.
    """


class NodeInvocationError(RTError, TypeError):
    """``rt.call`` was given arguments that the node's signature rejects."""


class GlobalTimeOutError(RTError, TimeoutError):
    """A top-level request ran longer than the session's ``timeout``.

    ``running`` holds the names of the nodes that were still running (and
    were cancelled) when the time ran out.
    """

    def __init__(self, timeout: float, running: list[str] | None = None) -> None:
        self.timeout = timeout
        self.running = list(running or [])
        where = (
            f" while {', '.join(repr(n) for n in self.running)} "
            f"{'was' if len(self.running) == 1 else 'were'} still running"
            if self.running
            else ""
        )
        super().__init__(f"The session timed out after {timeout:g} s{where}.")

    # Keeps pickling (multiprocessing, pytest-xdist) working.
    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.timeout, self.running))


class SessionSaveError(RTError, RuntimeError):
    """A session could not be saved when it closed.

    Raised at the end of its ``with`` block (or by the request that closed a
    session used without ``with``). ``__cause__`` is what went wrong;
    ``__context__`` the body's own exception, if there was one. The session
    keeps everything in memory: ``rt.export(session, "elsewhere.json")`` still
    works. ``path`` is where it was to be written.
    """

    def __init__(self, message: str, path: object = None) -> None:
        super().__init__(message)
        self.path = path


class ContextError(RTError, RuntimeError):
    """``rt.context`` or ``rt.broadcast`` was used where no session is active."""


class SessionStateError(RTError, RuntimeError):
    """A session was asked for a lifecycle transition the Raworc state machine forbids."""


class ConfigError(RTError, ValueError):
    """A configuration value was rejected; the message names the field."""


class SavedStateError(RTError, ValueError):
    """A saved session file is corrupt, foreign or unreadable; the message names the file."""


class SessionLookupError(RTError, LookupError):
    """A saved session could not be found from the id (or id prefix) given.

    ``query`` is what was asked for; ``candidates`` the saved sessions that
    matched (none: unknown id; several: ambiguous prefix).
    """

    def __init__(self, message: str, query: str = "", candidates: list | None = None) -> None:
        super().__init__(message)
        self.query = query
        self.candidates = list(candidates or [])

    def __str__(self) -> str:  # LookupError/KeyError would show the repr of the message
        return str(self.args[0]) if self.args else ""


class UnknownSessionError(SessionLookupError):
    """No saved session has that id, or an id starting with that prefix."""


class AmbiguousSessionError(SessionLookupError):
    """More than one saved session matches that id prefix; ``candidates`` lists them."""


class SessionStoreError(RTError, RuntimeError):
    """A store operation (rename, restore) would overwrite another saved session."""


class RemixError(RTError, LookupError):
    """``rt.remix`` could not rebuild a flow from a saved session (e.g. unknown entry node)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
