"""The session's publisher: typed messages to sync and async subscribers, in order.

No subscriber can stall a run or its timeout. Every subscriber sees the
messages in publish (stamp) order, one at a time, off the run's hot path:

* a sync subscriber has a delivery thread of its own (a daemon thread that
  retires when idle), fed by a queue;
* an async subscriber has a queue and a drainer task on the session's loop;
* an *inline* subscriber (``subscribe(..., inline=True)``; the session's own
  execution state and the live widgets, which must run on the loop thread) is
  called on the loop thread as the message is published. It must be quick:
  it is the one kind that can hold the run up.

Slow subscribers: a subscriber's backlog is capped at :data:`MAX_BACKLOG`
messages; past that, new messages for it are dropped (counted, with one
warning). :meth:`RTPublisher.flush` (at the end of each request and when the
session closes) waits at most :data:`FLUSH_GRACE` seconds for subscribers to
catch up, then warns and moves on; their delivery goes on in the background.
A subscriber that raises is logged and kept.

Messages published from another thread (a sync node in a worker thread) are
handed to the loop with ``call_soon_threadsafe`` and delivered from there.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..core.callables import is_async_callable
from .messages import RTMessage

logger = logging.getLogger("RT.Publisher")

M = TypeVar("M")
Callback = Callable[[Any], Any] | Callable[[Any], Awaitable[Any]]

_ids = itertools.count(1)

#: Messages a subscriber may have waiting before new ones are dropped for it.
MAX_BACKLOG = 10_000
#: How long :meth:`RTPublisher.flush` waits for subscribers to catch up (seconds).
FLUSH_GRACE = 1.0
#: A sync subscriber's delivery thread exits after this long with nothing to deliver.
IDLE_SECONDS = 5.0

_STOP = object()


def _wants_inline(callback: Any) -> bool:
    """Subscribers that are part of railtracks_nb itself (objects of its classes,
    such as the widgets' live feed) run inline on the loop thread."""
    if getattr(callback, "rt_inline", False):
        return True
    if inspect.isfunction(callback) or inspect.ismethod(callback):
        return False
    return type(callback).__module__.startswith("railtracks_nb.")


@dataclass(frozen=True)
class Subscription:
    """What ``subscribe`` returns: pass it (or its ``id``) to ``unsubscribe``."""

    id: int
    name: str


class _Subscriber:
    __slots__ = (
        "callback",
        "drainer",
        "dropped",
        "inline",
        "is_async",
        "name",
        "queue",
        "sub",
        "thread",
    )

    def __init__(self, sub: Subscription, callback: Callback, inline: bool) -> None:
        self.sub = sub
        self.name = sub.name
        self.callback = callback
        self.is_async = is_async_callable(callback)
        self.inline = inline and not self.is_async
        self.queue: deque[Any] = deque()
        self.drainer: asyncio.Task[None] | None = None
        self.thread: _DeliveryThread | None = None
        self.dropped = 0


class _DeliveryThread:
    """Delivers one sync subscriber's messages, in order, in a daemon thread."""

    def __init__(self, entry: _Subscriber, publisher: RTPublisher[Any]) -> None:
        self.entry = entry
        self.publisher = publisher
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
                    self.publisher._await_elsewhere(entry, result)
            except Exception:
                logger.exception("Subscriber %r raised on %s; ignored", entry.name, _kind(item))
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


class RTPublisher(Generic[M]):
    """Publish/subscribe for one session. Thread-safe to publish into."""

    def __init__(self, name: str = "RTPublisher") -> None:
        self.name = name
        self._subscribers: dict[int, _Subscriber] = {}
        self._sync: tuple[_Subscriber, ...] = ()
        self._threaded: tuple[_Subscriber, ...] = ()
        self._async: tuple[_Subscriber, ...] = ()
        self._sole_inline: Any = None  # the only subscriber's callback, if it is inline
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._closed = False

    # -- subscriptions -----------------------------------------------------------
    def subscribe(
        self, callback: Callback, name: str | None = None, *, inline: bool | None = None
    ) -> Subscription:
        """Call ``callback(message)`` for every message from now on; sync or async.

        A sync callback runs in a delivery thread of its own; with
        ``inline=True`` it is called on the session's loop thread as each
        message is published instead (it must then be quick: it holds the run
        up while it runs). ``None`` chooses inline only for railtracks_nb's own
        subscriber objects. Async callbacks always run on the loop.
        """
        if not callable(callback):
            raise TypeError(f"subscribe() needs a callable, got {type(callback).__name__}")
        if self._closed:
            raise RuntimeError(f"Publisher {self.name!r} is shut down; it takes no subscribers")
        label = name or str(getattr(callback, "__name__", None) or repr(callback))
        sub = Subscription(next(_ids), label)
        if inline is None:
            inline = _wants_inline(callback)
        self._subscribers[sub.id] = _Subscriber(sub, callback, inline)
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
        if entry.thread is not None:
            entry.thread.stop()
        self._reindex()

    def _reindex(self) -> None:
        subs = tuple(self._subscribers.values())
        self._sync = tuple(s for s in subs if s.inline)
        self._threaded = tuple(s for s in subs if not s.inline and not s.is_async)
        self._async = tuple(s for s in subs if s.is_async)
        self._sole_inline = subs[0].callback if len(subs) == 1 and subs[0].inline else None

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
        """Hand ``message`` to every subscriber, from the session's loop thread (inline
        subscribers are called there and then; the others' queues are fed there)."""
        loop = self._loop
        if loop is not None and self._loop_thread != threading.get_ident() and loop.is_running():
            loop.call_soon_threadsafe(self._deliver, message)
            return
        self._deliver(message)

    def delivers_only_to(self, callback: Any) -> bool:
        """Whether ``callback`` alone would get a message published now, inline, here."""
        loop, here = self._loop, self._loop_thread == threading.get_ident()
        return self._sole_inline is callback and (loop is None or here or not loop.is_running())

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
        for entry in self._threaded:
            delivery = entry.thread
            if delivery is None:
                delivery = entry.thread = _DeliveryThread(entry, self)
            if delivery.backlog >= MAX_BACKLOG:
                self._drop(entry)
            else:
                delivery.send(message)
        for entry in self._async:
            if len(entry.queue) >= MAX_BACKLOG:
                self._drop(entry)
                continue
            entry.queue.append(message)
            self._kick(entry)

    def _drop(self, entry: _Subscriber) -> None:
        entry.dropped += 1
        if entry.dropped == 1:
            logger.warning(
                "Subscriber %r is too slow: %d messages are waiting for it; newer ones are "
                "dropped for it until it catches up (see RTPublisher.dropped).",
                entry.name,
                MAX_BACKLOG,
            )

    @property
    def dropped(self) -> dict[str, int]:
        """Messages dropped so far per subscriber name (only subscribers that lost some)."""
        return {e.name: e.dropped for e in self._subscribers.values() if e.dropped}

    def _await_elsewhere(self, entry: _Subscriber, awaitable: Any) -> None:
        """A sync subscriber (in its thread) returned a coroutine: await it on the loop."""
        loop = self._loop
        if loop is not None and loop.is_running() and inspect.iscoroutine(awaitable):
            asyncio.run_coroutine_threadsafe(awaitable, loop)
        else:
            close = getattr(awaitable, "close", None)
            if close is not None:
                close()
            logger.warning("Subscriber %r returned an awaitable with no loop to run it", entry.name)

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

    async def flush(self, grace: float = FLUSH_GRACE) -> bool:
        """Wait until every subscriber has handled every message published so far,
        at most ``grace`` seconds. Returns whether they all caught up; when not,
        a warning names the ones still behind (their delivery goes on)."""
        deadline = time.monotonic() + grace
        while True:
            pending = []
            for entry in tuple(self._subscribers.values()):
                if entry.queue and (entry.drainer is None or entry.drainer.done()):
                    self._kick(entry)
                if entry.drainer is not None and not entry.drainer.done():
                    pending.append(entry.drainer)
            behind = [e for e in self._threaded if e.thread is not None and e.thread.backlog]
            if not pending and not behind:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._warn_behind(grace)
                return False
            if pending:
                await asyncio.wait(pending, timeout=min(remaining, 0.05 if behind else remaining))
            else:
                await asyncio.sleep(min(remaining, 0.002))

    def flush_sync(self, grace: float = FLUSH_GRACE) -> bool:
        """``flush()`` from sync code when no loop is running (e.g. at ``Session.__exit__``)."""
        deadline = time.monotonic() + grace
        if any(e.queue for e in self._subscribers.values()):
            if not asyncio.run(self.flush(grace)):
                return False
        for entry in self._threaded:
            if entry.thread is not None:
                if not entry.thread.wait(max(0.0, deadline - time.monotonic())):
                    self._warn_behind(grace)
                    return False
        return True

    def _warn_behind(self, grace: float) -> None:
        names = [
            e.name
            for e in self._subscribers.values()
            if e.queue or (e.thread is not None and e.thread.backlog)
        ]
        if names:
            logger.warning(
                "Subscriber(s) %s did not catch up within %g s; the session goes on "
                "and they get their remaining messages in the background.",
                ", ".join(repr(n) for n in names),
                grace,
            )

    def shutdown(self) -> None:
        """Drop every subscriber; publishing afterwards reaches nobody.

        Async subscribers' drainers already running are left to finish the
        messages queued for them, so closing a session from sync code inside a
        running loop loses nothing.
        """
        for entry in self._subscribers.values():
            if entry.thread is not None:
                entry.thread.stop()
        self._subscribers.clear()
        self._reindex()
        self._closed = True

    @property
    def is_closed(self) -> bool:
        return self._closed


def _kind(message: Any) -> str:
    return message.kind if isinstance(message, RTMessage) else type(message).__name__
