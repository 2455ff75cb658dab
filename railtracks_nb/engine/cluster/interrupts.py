"""Keeping a local cluster's workers alive when the notebook's cell is interrupted.

A kernel interrupt is a SIGINT sent to the kernel's whole process group, and the
worker processes of a ``LocalCluster`` started from the kernel are in that group:
without this plugin every worker dies on each interrupt (its nanny starts a new
one, and the work it held is lost). ``flow.map`` registers it on the clusters it
starts; register it on your own local cluster with
``client.register_plugin(IgnoreInterrupts())``. The notebook's own interrupt
handling cancels the batch's tasks, which is what stops the sessions.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin


class IgnoreInterrupts(WorkerPlugin):
    """A worker plugin: the worker process ignores SIGINT (SIGTERM still stops it)."""

    name = "railtracks-ignore-sigint"

    def setup(self, worker: Any) -> None:
        # Signal handlers can only be set from a process's main thread, where the
        # worker's event loop runs; a worker in a thread of another process is left alone.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
