"""Showing a batch's progress: the notebook's batch dashboard in a kernel, a log
line now and then elsewhere, or the observer the caller gives."""

from __future__ import annotations

import logging
import time

from ...execution.views import presenter
from .state import (
    COMPLETED,
    FAILED,
    RUNNING,
    BatchObserver,
    BatchState,
)

logger = logging.getLogger("RT.Batch")


def observer_for(display: bool | BatchObserver | None, state: BatchState) -> BatchObserver | None:
    """The display to keep up to date: the one given, the notebook's batch dashboard
    (in a kernel, unless ``display=False``), else a log line now and then."""
    if display is False:
        return None
    if display is not None and display is not True:
        return display
    if _in_kernel():
        # The notebook layer registered itself as the presenter: the engine never imports it.
        return presenter().show_batch(state)
    return LogProgress()


def _in_kernel() -> bool:
    import sys

    shell_module = sys.modules.get("IPython")
    if shell_module is None:
        return False
    shell = shell_module.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class LogProgress:
    """The progress display outside a notebook: a line under ``RT.Batch`` every few seconds."""

    def __init__(self, every: float = 5.0) -> None:
        self.every = every
        self._last = 0.0

    def refresh(self, state: BatchState, changed: set[int]) -> None:
        now = time.monotonic()
        if not state.finished and now - self._last < self.every:
            return
        self._last = now
        counts = state.counts()
        logger.info(
            "batch %s of %s: %d/%d done, %d running, %d failed, %.1f sessions/s",
            state.batch_id[:8],
            state.flow_name,
            counts[COMPLETED] + counts[FAILED],
            len(state),
            counts[RUNNING],
            counts[FAILED],
            state.throughput(),
        )
