"""A publisher subscriber's delivery: its queue, and for a sync one its own thread.

:class:`Subscriber` holds what the publisher keeps per subscription;
:class:`DeliveryThread` delivers a sync subscriber's messages, in order, in a
daemon thread that retires after :data:`IDLE_SECONDS` with nothing to deliver.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import queue
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from ..core.callables import is_async_callable
from .messages import RTMessage

logger = logging.getLogger("RT.Publisher")

Callback = Callable[[Any], Any] | Callable[[Any], Awaitable[Any]]

#: A sync subscriber's delivery thread exits after this long with nothing to deliver.
IDLE_SECONDS = 5.0

_STOP = object()


def kind_of(message: Any) -> str:
    """A message's kind for log lines (its class name if it is not one of ours)."""
    return message.kind if isinstance(message, RTMessage) else type(message).__name__


class Subscriber:
    """One subscription's callback and delivery state (its queue, its thread)."""


    __slots__ = (
        "callback",
        "drainer",
        "dropped",
        "ignores",
        "inline",
        "is_async",
        "name",
        "queue",
        "sub",
        "thread",
    )

    def __init__(
        self, sub: Any, callback: Callback, inline: bool, ignores: frozenset[type]
    ) -> None:
        self.sub = sub
        self.ignores = ignores
        self.name = sub.name
        self.callback = callback
        self.is_async = is_async_callable(callback)
        self.inline = inline and not self.is_async
        self.queue: deque[Any] = deque()
        self.drainer: asyncio.Task[None] | None = None
        self.thread: DeliveryThread | None = None
        self.dropped = 0


class DeliveryThread:
    """Delivers one sync subscriber's messages, in order, in a daemon thread."""

    def __init__(
        self, entry: Subscriber, await_elsewhere: Callable[[Subscriber, Any], None]
    ) -> None:
        self.entry = entry
        # Where a coroutine a callback returned goes: the publisher's loop.
        self.await_elsewhere = await_elsewhere
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.caught_up = threading.Condition(self.lock)
        self.put = 0
        self.done = 0
        self.thread: threading.Thread | None = None

    @property
    def backlog(self) -> int:
        return self.put - self.done

    def send(self, message: Any) -> None:
        with self.lock:
            self.put += 1
            self.queue.put(message)
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._run, name=f"rt-subscriber-{self.entry.name}", daemon=True
                )
                self.thread.start()

    def _run(self) -> None:
        entry = self.entry
        while True:
            try:
                item = self.queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self.lock:
                    if self.queue.empty():
                        self.thread = None
                        return
                continue
            if item is _STOP:
                with self.lock:
                    self.done += 1
                    self.caught_up.notify_all()
                    if self.queue.empty():
                        self.thread = None
                        return
                continue
            try:
                result = entry.callback(item)
                if result is not None and inspect.isawaitable(result):
                    self.await_elsewhere(entry, result)
            except Exception:
                logger.exception("Subscriber %r raised on %s; ignored", entry.name, kind_of(item))
            finally:
                with self.lock:
                    self.done += 1
                    if self.done == self.put:
                        self.caught_up.notify_all()

    def stop(self) -> None:
        """Deliver what is queued, then exit."""
        with self.lock:
            if self.thread is None:
                return
            self.put += 1
            self.queue.put(_STOP)

    def wait(self, timeout: float) -> bool:
        """Block until every message sent so far was handled, at most ``timeout`` s."""
        with self.lock:
            return self.caught_up.wait_for(lambda: self.done >= self.put, timeout)
