"""The session's publisher: typed messages to sync and async subscribers, in order.

Sync subscribers are called inline, in publish order, on the thread that owns
the session's event loop. Async subscribers get a queue each and a drainer task
that awaits them one message at a time, so they too see messages in order and a
slow one never holds up the run. A subscriber that raises is logged and kept.

Messages published from another thread (a sync node in a worker thread) are
handed to the loop with ``call_soon_threadsafe`` and delivered there.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .messages import RTMessage

logger = logging.getLogger("RT.Publisher")

M = TypeVar("M")
Callback = Callable[[Any], Any] | Callable[[Any], Awaitable[Any]]

_ids = itertools.count(1)


@dataclass(frozen=True)
class Subscription:
    """What ``subscribe`` returns: pass it (or its ``id``) to ``unsubscribe``."""

    id: int
    name: str


class _Subscriber:
    __slots__ = ("callback", "drainer", "is_async", "name", "queue", "sub")

    def __init__(self, sub: Subscription, callback: Callback) -> None:
        self.sub = sub
        self.name = sub.name
        self.callback = callback
        self.is_async = inspect.iscoroutinefunction(callback) or inspect.iscoroutinefunction(
            getattr(callback, "__call__", None)  # noqa: B004 - async __call__ objects
        )
        self.queue: deque[Any] = deque()
        self.drainer: asyncio.Task[None] | None = None


class RTPublisher(Generic[M]):
    """Publish/subscribe for one session. Thread-safe to publish into."""

    def __init__(self, name: str = "RTPublisher") -> None:
        self.name = name
        self._subscribers: dict[int, _Subscriber] = {}
        self._sync: tuple[_Subscriber, ...] = ()
        self._async: tuple[_Subscriber, ...] = ()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._closed = False

    # -- subscriptions -----------------------------------------------------------
    def subscribe(self, callback: Callback, name: str | None = None) -> Subscription:
        """Call ``callback(message)`` for every message from now on; sync or async."""
        if not callable(callback):
            raise TypeError(f"subscribe() needs a callable, got {type(callback).__name__}")
        if self._closed:
            raise RuntimeError(f"Publisher {self.name!r} is shut down; it takes no subscribers")
        sub = Subscription(next(_ids), name or getattr(callback, "__name__", repr(callback)))
        self._subscribers[sub.id] = _Subscriber(sub, callback)
        self._reindex()
        return sub

    def unsubscribe(self, subscription: Subscription | int) -> None:
        """Stop delivering to a subscriber. Unknown ids raise ``KeyError``."""
        key = subscription.id if isinstance(subscription, Subscription) else subscription
        try:
            entry = self._subscribers.pop(key)
        except KeyError:
            raise KeyError(f"No subscriber with id {key} on publisher {self.name!r}") from None
        entry.queue.clear()
        self._reindex()

    def _reindex(self) -> None:
        subs = tuple(self._subscribers.values())
        self._sync = tuple(s for s in subs if not s.is_async)
        self._async = tuple(s for s in subs if s.is_async)

    @property
    def subscribers(self) -> list[Subscription]:
        return [s.sub for s in self._subscribers.values()]

    # -- loop binding ------------------------------------------------------------
    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Deliver on ``loop`` (its thread) from now on. Sessions call this per request."""
        self._loop = loop
        self._loop_thread = threading.get_ident()

    # -- publishing --------------------------------------------------------------
    def publish(self, message: M) -> None:
        """Deliver ``message`` to every subscriber, on the session's loop thread."""
        loop = self._loop
        if loop is not None and self._loop_thread != threading.get_ident() and loop.is_running():
            loop.call_soon_threadsafe(self._deliver, message)
            return
        self._deliver(message)

    def _deliver(self, message: M) -> None:
        for entry in self._sync:
            try:
                result = entry.callback(message)
            except Exception:
                logger.exception("Subscriber %r raised on %s; ignored", entry.name, _kind(message))
                continue
            if result is not None and inspect.isawaitable(result):  # returned a coroutine
                entry.queue.append(result)
                self._kick(entry)
        for entry in self._async:
            entry.queue.append(message)
            self._kick(entry)

    def _kick(self, entry: _Subscriber) -> None:
        if entry.drainer is not None and not entry.drainer.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop now: flush() or flush_sync() drains the queue later
        entry.drainer = loop.create_task(self._drain(entry), name=f"rt-subscriber-{entry.name}")

    async def _drain(self, entry: _Subscriber) -> None:
        while entry.queue:
            item = entry.queue.popleft()
            try:
                if inspect.isawaitable(item):
                    await item
                else:
                    await entry.callback(item)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Subscriber %r raised on %s; ignored", entry.name, _kind(item))

    async def flush(self) -> None:
        """Wait until every async subscriber has handled every message published so far."""
        while True:
            pending = []
            for entry in self._subscribers.values():
                if entry.queue and (entry.drainer is None or entry.drainer.done()):
                    self._kick(entry)
                if entry.drainer is not None and not entry.drainer.done():
                    pending.append(entry.drainer)
            if not pending:
                return
            await asyncio.gather(*pending, return_exceptions=True)

    def flush_sync(self) -> None:
        """``flush()`` from sync code when no loop is running (e.g. at ``Session.__exit__``)."""
        if any(e.queue for e in self._subscribers.values()):
            asyncio.run(self.flush())

    def shutdown(self) -> None:
        """Drop every subscriber; publishing afterwards reaches nobody.

        Async subscribers' drainers already running are left to finish the
        messages queued for them, so closing a session from sync code inside a
        running loop loses nothing.
        """
        self._subscribers.clear()
        self._reindex()
        self._closed = True

    @property
    def is_closed(self) -> bool:
        return self._closed


def _kind(message: Any) -> str:
    return message.kind if isinstance(message, RTMessage) else type(message).__name__
