"""Stamps: the numbered, timed events a session records (``Stamp``, ``StampManager``).

A node's stamps are numbered exactly as Railtracks numbers them; lifecycle events
(the session going busy, a run starting) get stamps of their own that replay
interleaves by time without taking a step number.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from typing import Any, Final, NamedTuple


class Stamp(NamedTuple):
    """One step of a session: its order, its wall-clock time and what happened."""

    step: int
    time: float
    identifier: str

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "time": self.time, "identifier": self.identifier}

    def encode(self) -> dict[str, Any]:
        """:meth:`to_json` (the Railtracks name)."""
        return self.to_json()


# How the state is kept. A session of 100,000 nodes keeps 400,000 snapshots and
# stamps. Kept as objects, every one of them is tracked by the garbage collector,
# and each full collection walks them all: the cost per call then grows with the
# size of the session. Plain tuples of plain values (ids, names, numbers, None,
# other such tuples) are different: the collector stops tracking them. So the
# forests and stamp lists store plain tuples and hand out Stamp / LinkedNode /
# RequestTemplate objects, built on access.
#: A stamp as the state keeps it: ``(step, time, identifier)``; a :class:`Stamp` is one too.
RawStamp = tuple[int, float, str]

#: Where each field of a stamp is in its plain tuple.
STAMP_STEP: Final = 0
STAMP_TIME: Final = 1
STAMP_TEXT: Final = 2


def _raw_stamp(stamp: RawStamp) -> RawStamp:
    """A stamp as a plain tuple; one that already is one is returned as it is, so a
    stamp recorded in several places (its node, its request, its run) is one tuple."""
    if type(stamp) is tuple:
        return stamp
    return (stamp[0], stamp[1], stamp[2])


class StampManager:
    """Hands out stamps with strictly increasing steps and remembers them all.

    Node stamps (a node created, finished or failed) number 0, 1, 2, ... exactly
    as Railtracks numbers them. Lifecycle stamps (session state changes, runs
    starting and ending, broadcasts) are kept apart, in their own list, and take
    no step of their own: their ``step`` is that of the next node stamp, so a
    lifecycle stamp with step ``k`` happened after node step ``k - 1`` and before
    node step ``k`` (ties keep the order they were made in). Replay interleaves
    both by comparing steps.
    """

    def __init__(self, start: int = 0) -> None:
        self._start = start
        self._steps = itertools.count(start)
        self._stamps: list[RawStamp] = []
        self._lifecycle: list[RawStamp] = []

    def create_stamp(self, message: str) -> Stamp:
        raw = (next(self._steps), time.time(), message)
        self._stamps.append(raw)
        return Stamp._make(raw)

    def create_raw(self, message: str) -> RawStamp:
        """:meth:`create_stamp` as the plain tuple it keeps (no :class:`Stamp` built)."""
        raw = (next(self._steps), time.time(), message)
        self._stamps.append(raw)
        return raw

    def create_lifecycle_stamp(self, message: str) -> Stamp:
        """A stamp for a lifecycle event: no step of its own (see the class docstring)."""
        # Node stamps are made in step order, so the last one holds the highest step.
        step = self._stamps[-1][STAMP_STEP] + 1 if self._stamps else self._start
        raw = (step, time.time(), message)
        self._lifecycle.append(raw)
        return Stamp._make(raw)

    def kept(self, stamp: RawStamp) -> RawStamp:
        """The plain tuple this manager keeps for ``stamp``, when it is the node stamp
        it made last (the usual case: the session records a stamp as soon as it is
        made); otherwise ``stamp`` as a plain tuple. Records that share the kept tuple
        add no object of their own to the heap."""
        stamps = self._stamps
        if stamps:
            last = stamps[-1]
            if last[STAMP_STEP] == stamp[STAMP_STEP] and last[STAMP_TEXT] is stamp[STAMP_TEXT]:
                return last
        return _raw_stamp(stamp)

    def stamp_creator(self) -> Callable[[str], Stamp]:
        """A function ``message -> Stamp`` bound to this manager (the Railtracks API)."""
        return self.create_stamp

    def adopt(self, stamp: Stamp) -> None:
        """Record a stamp made elsewhere (used when rebuilding a saved session)."""
        self._stamps.append(_raw_stamp(stamp))

    def last_time(self, default: float) -> float:
        """The time of the latest node stamp (``default`` if there is none)."""
        return max((raw[STAMP_TIME] for raw in self._stamps), default=default)

    @property
    def all_stamps(self) -> list[Stamp]:
        """Every node stamp, in step order (what Railtracks' ``all_stamps`` holds)."""
        return [Stamp._make(raw) for raw in sorted(self._stamps)]

    @property
    def lifecycle_stamps(self) -> list[Stamp]:
        """The lifecycle stamps, in the order they were made."""
        return [Stamp._make(raw) for raw in self._lifecycle]

    @property
    def step_logs(self) -> dict[int, list[str]]:
        """The messages of the node stamps, by step (the Railtracks API)."""
        logs: dict[int, list[str]] = {}
        for step, _, message in sorted(self._stamps):
            logs.setdefault(step, []).append(message)
        return logs

    def copy(self, keep: Iterable[int] | None = None) -> StampManager:
        """A copy (only the node steps in ``keep``, if given) that goes on numbering after
        the last step, so stamps made on it never reuse a step."""
        wanted = None if keep is None else set(keep)
        twin = StampManager(max((raw[STAMP_STEP] for raw in self._stamps), default=-1) + 1)
        twin._stamps = [r for r in self._stamps if wanted is None or r[STAMP_STEP] in wanted]
        if wanted is None:
            twin._lifecycle = list(self._lifecycle)
        return twin

    def __len__(self) -> int:
        return len(self._stamps)
