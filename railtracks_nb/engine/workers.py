"""The worker threads sync nodes run in: a small elastic pool of daemon threads.

Why not ``concurrent.futures.ThreadPoolExecutor``:

* Its threads are joined when the interpreter exits, so a sync node stuck in
  ``time.sleep(30)`` after its session timed out keeps the process alive for
  30 s. Ours are daemon threads, never joined: a node that cannot be stopped
  (Python cannot stop a thread) does not keep the process from exiting.
* A fixed cap deadlocks when sync nodes call sync nodes with ``rt.call_sync``:
  40 parents each waiting for a child fill 32 threads and the children queue
  forever. Here a thread waiting in ``call_sync`` does not count against the
  cap (:func:`blocking`): while it waits, another thread may start, so nested
  and fanned-out sync calls always make progress.
* Idle threads retire after :data:`IDLE_SECONDS`, so no thread outlives its
  work for long, whichever session it served.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

#: A worker with nothing to do for this long exits.
IDLE_SECONDS = 5.0

_local = threading.local()


class WorkerPool:
    """Runs callables in daemon threads; at most ``max_workers`` *runnable* at once.

    Threads blocked in :func:`blocking` (a sync node waiting for a child it
    called) are not counted, so the pool grows past ``max_workers`` only by
    the number of such waiting threads.
    """

    def __init__(self, max_workers: int = 32, name: str = "rt-node") -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        self.max_workers = max_workers
        self.name = name
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: deque[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = deque()
        self._threads = 0  # alive workers
        self._idle = 0  # workers waiting for a job
        self._blocked = 0  # workers waiting inside blocking()
        self._closed = False
        self._count = 0
        self._workers: dict[threading.Thread, bool] = {}  # alive workers -> busy with a job

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run ``fn(*args)`` in a worker thread; returns its future."""
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.name} pool is shut down")
            self._queue.append((future, fn, args))
            if self._idle:
                self._idle -= 1  # claimed: that worker takes a job when it wakes
                self._wake.notify()
            else:
                self._maybe_start()
        return future

    def _maybe_start(self) -> None:
        """Start a worker if a job waits and fewer than the cap are runnable (lock held)."""
        runnable = self._threads - self._blocked - self._idle
        if self._queue and not self._idle and runnable < self.max_workers:
            self._threads += 1
            self._count += 1
            thread = threading.Thread(
                target=self._work, name=f"{self.name}-{self._count}", daemon=True
            )
            self._workers[thread] = False
            thread.start()

    def _work(self) -> None:
        _local.pool = self
        me = threading.current_thread()
        while True:
            with self._lock:
                self._workers[me] = False
                while not self._queue:
                    if self._closed:
                        self._retire(me)
                        return
                    self._idle += 1
                    if not self._wake.wait(IDLE_SECONDS):
                        self._idle -= 1  # timed out unclaimed
                        if not self._queue:
                            self._retire(me)
                            return
                future, fn, args = self._queue.popleft()
                self._workers[me] = True
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as error:
                future.set_exception(error)
            else:
                future.set_result(result)
            del future, fn, args

    def _retire(self, me: threading.Thread) -> None:
        self._threads -= 1
        self._workers.pop(me, None)

    def block(self) -> None:
        """The calling worker is about to wait for work elsewhere (see :func:`blocking`)."""
        with self._lock:
            self._blocked += 1
            self._maybe_start()

    def unblock(self) -> None:
        with self._lock:
            self._blocked -= 1

    def shutdown(self, timeout: float = 1.0) -> None:
        """Cancel queued jobs and wait (at most ``timeout`` s) for idle workers to exit.

        Workers still running a job are not waited for: they finish on their
        own (Python cannot stop a thread) and exit then.
        """
        with self._lock:
            self._closed = True
            while self._queue:
                future, _, _ = self._queue.popleft()
                future.cancel()
            self._idle = 0
            self._wake.notify_all()
            idle = [t for t, busy in self._workers.items() if not busy]
        deadline = time.monotonic() + timeout
        for thread in idle:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))

    @property
    def threads(self) -> int:
        """Worker threads alive now (running, idle or waiting)."""
        return self._threads


@contextmanager
def blocking() -> Iterator[None]:
    """Mark the current worker thread as waiting (for a child call) while inside.

    Outside a worker thread this does nothing.
    """
    pool: WorkerPool | None = getattr(_local, "pool", None)
    if pool is None:
        yield
        return
    pool.block()
    try:
        yield
    finally:
        pool.unblock()
