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
import threading
import time
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .subscribers import Callback, DeliveryThread, Subscriber, kind_of

logger = logging.getLogger("RT.Publisher")

M = TypeVar("M")

_ids = itertools.count(1)

#: Messages a subscriber may have waiting before new ones are dropped for it.
MAX_BACKLOG = 10_000
#: How long :meth:`RTPublisher.flush` waits for subscribers to catch up (seconds).
FLUSH_GRACE = 1.0

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


class RTPublisher(Generic[M]):
    """Publish/subscribe for one session. Thread-safe to publish into."""

    def __init__(self, name: str = "RTPublisher") -> None:
        self.name = name
        self._subscribers: dict[int, Subscriber] = {}
        self._sync: tuple[Subscriber, ...] = ()
        self._threaded: tuple[Subscriber, ...] = ()
        self._async: tuple[Subscriber, ...] = ()
        # (callback, kinds) -> whether it alone gets those kinds; see delivers_only_to
        self._sole: dict[tuple[Any, tuple[type, ...]], bool] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._closed = False

    # -- subscriptions -----------------------------------------------------------
    def subscribe(
        self,
        callback: Callback,
        name: str | None = None,
        *,
        inline: bool | None = None,
        ignores: tuple[type, ...] = (),
    ) -> Subscription:
        """Call ``callback(message)`` for every message from now on; sync or async.

        ``ignores``: message types the subscriber does not want; they are not
        delivered to it. A subscriber that ignores the node messages
        (``RequestCreation``, ``RequestSuccess``) lets the session record its
        calls without building those messages when nothing else wants them.

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
        if not all(isinstance(kind, type) for kind in ignores):
            raise TypeError(f"subscribe(ignores=...) takes message types, got {ignores!r}")
        self._subscribers[sub.id] = Subscriber(sub, callback, inline, frozenset(ignores))
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
        self._sole = {}

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

    def delivers_only_to(self, callback: Any, *kinds: type) -> bool:
        """Whether ``callback`` alone would get a message of each of ``kinds`` published
        now, inline, here (every other subscriber ignores them)."""
        key = (callback, kinds)
        sole = self._sole.get(key)
        if sole is None:
            sole = self._sole[key] = self._only_one_gets(callback, kinds)
        if not sole:
            return False
        loop = self._loop
        return loop is None or self._loop_thread == threading.get_ident() or not loop.is_running()

    def _only_one_gets(self, callback: Any, kinds: tuple[type, ...]) -> bool:
        getting = [
            s for s in self._subscribers.values() if not all(k in s.ignores for k in kinds)
        ]
        return len(getting) == 1 and getting[0].callback is callback and getting[0].inline

    def _deliver(self, message: M) -> None:
        kind = type(message)
        for entry in self._sync:
            if kind in entry.ignores:
                continue
            try:
                result = entry.callback(message)
            except Exception:
                logger.exception(
                    "Subscriber %r raised on %s; ignored", entry.name, kind_of(message)
                )
                continue
            if result is not None and inspect.isawaitable(result):  # returned a coroutine
                entry.queue.append(result)
                self._kick(entry)
        for entry in self._threaded:
            if kind in entry.ignores:
                continue
            delivery = entry.thread
            if delivery is None:
                delivery = entry.thread = DeliveryThread(entry, self._await_elsewhere)
            if delivery.backlog >= MAX_BACKLOG:
                self._drop(entry)
            else:
                delivery.send(message)
        for entry in self._async:
            if kind in entry.ignores:
                continue
            if len(entry.queue) >= MAX_BACKLOG:
                self._drop(entry)
                continue
            entry.queue.append(message)
            self._kick(entry)

    def _drop(self, entry: Subscriber) -> None:
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

    def _await_elsewhere(self, entry: Subscriber, awaitable: Any) -> None:
        """A sync subscriber (in its thread) returned a coroutine: await it on the loop."""
        loop = self._loop
        if loop is not None and loop.is_running() and inspect.iscoroutine(awaitable):
            asyncio.run_coroutine_threadsafe(awaitable, loop)
        else:
            close = getattr(awaitable, "close", None)
            if close is not None:
                close()
            logger.warning("Subscriber %r returned an awaitable with no loop to run it", entry.name)

    def _kick(self, entry: Subscriber) -> None:
        if entry.drainer is not None and not entry.drainer.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop now: flush() or flush_sync() drains the queue later
        entry.drainer = loop.create_task(self._drain(entry), name=f"rt-subscriber-{entry.name}")

    async def _drain(self, entry: Subscriber) -> None:
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
                logger.exception("Subscriber %r raised on %s; ignored", entry.name, kind_of(item))

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
