"""Logging under the ``RT`` logger hierarchy, per-session levels, optional log files.

One console handler serves every session; a filter looks up the session that
is current (a context variable) so two sessions in one loop each keep their own
``logging_setting``. A session's ``log_file`` gets a handler that only takes that
session's records.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, TextIO

from .scope import current_session

if TYPE_CHECKING:
    from .session import Session

LOGGER_NAME = "RT"
FORMAT = "%(name)s : %(levelname)s - %(message)s"
FILE_FORMAT = "%(asctime)s " + FORMAT

LEVELS: dict[str, int] = {
    "VERBOSE": logging.DEBUG,
    "REGULAR": logging.INFO,
    "QUIET": logging.WARNING,
    "NONE": logging.CRITICAL + 10,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "ERROR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
}

root = logging.getLogger(LOGGER_NAME)


def get_logger(name: str) -> logging.Logger:
    """``RT.<name>``, e.g. ``get_logger("Session")``."""
    return logging.getLogger(f"{LOGGER_NAME}.{name}")


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at emit time (notebooks swap it per cell)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


class _SessionLevelFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        session = current_session()
        level = session.log_level if session is not None else _default_level()
        return record.levelno >= level


class _OnlySession(logging.Filter):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def filter(self, record: logging.LogRecord) -> bool:
        return current_session() is self.session


_console: logging.Handler | None = None
_active: dict[int, int] = {}  # id(session) -> level


def _default_level() -> int:
    from ..core.config import get_config

    return LEVELS[str(get_config().get("logging_setting", "REGULAR")).upper()]


def _install_console() -> None:
    global _console
    if _console is None:
        _console = _CurrentStderr()
        _console.setFormatter(logging.Formatter(FORMAT))
        _console.addFilter(_SessionLevelFilter())
        root.addHandler(_console)


def _refresh_level() -> None:
    root.setLevel(min(_active.values(), default=logging.INFO))


def attach(session: Session) -> logging.Handler | None:
    """Start logging for ``session``; returns its file handler, if it has a log file."""
    _install_console()
    _active[id(session)] = session.log_level
    _refresh_level()
    log_file = session.executor_config.log_file
    if log_file is None:
        return None
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FILE_FORMAT))
    handler.setLevel(session.log_level)
    handler.addFilter(_OnlySession(session))
    root.addHandler(handler)
    return handler


def detach(session: Session, handler: logging.Handler | None) -> None:
    """Stop logging for ``session`` and close its log file."""
    _active.pop(id(session), None)
    _refresh_level()
    if handler is not None:
        root.removeHandler(handler)
        handler.close()


def enable_logging(
    level: str | None = "INFO",
    log_file: str | os.PathLike[str] | None = None,
    *,
    name_style: str = "short",
) -> None:
    """``rt.enable_logging()``: the Railtracks 1.7 way to turn logging on.

    Sets the default ``logging_setting`` (and ``log_file``) of every session
    created afterwards, as ``rt.set_config`` does; a session's own
    ``logging_setting`` still wins. ``level=None`` reads ``RT_LOG_LEVEL`` (else
    ``INFO``) and ``log_file=None`` reads ``RT_LOG_FILE``. ``name_style`` is
    accepted for compatibility: records are always named ``RT.<Part>``.
    """
    from ..core.config import set_config

    if name_style not in ("short", "full"):
        raise ValueError(f"name_style must be 'short' or 'full', got {name_style!r}")
    if level is None:
        level = os.environ.get("RT_LOG_LEVEL") or "INFO"
    if log_file is None:
        log_file = os.environ.get("RT_LOG_FILE") or None
    set_config(logging_setting=level, log_file=log_file)
