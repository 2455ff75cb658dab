"""Saving a batch's sessions into the notebook's store as their inputs end.

A session that ended on its worker is saved from the payload its result
brought back. One that did not (its batch was cancelled, or its worker died) is
saved as ``Interrupted``: from the latest payload its worker sent, or, when none
came, from one made here that names the flow, the batch, the input and the
worker. Saves are queued on the notebook's loop (:meth:`BatchSaver.ended`,
:meth:`BatchSaver.interrupted`) and written together in a thread
(:meth:`BatchSaver.flush`), which records each file's path on its input.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...execution.state import EXTRAS_KEY
from ...store.persistence import save_payload
from .state import BatchState

logger = logging.getLogger("RT.Batch")


@dataclass
class BatchSaver:
    """The saves of one batch's sessions (none when ``enabled`` is false);
    ``session_name(index)`` names an input's session."""

    flow: Any
    state: BatchState
    session_name: Callable[[int], str]
    enabled: bool = field(kw_only=True)
    #: Queued saves: (input index, payload), written by :meth:`flush`.
    pending: list[tuple[int, dict[str, Any]]] = field(default_factory=list, init=False)

    def ended(self, index: int, status: str) -> None:
        """Queue the save of an input's session that ended with ``status`` on its worker
        (a retried input's names the session it replaces)."""
        item = self.state.inputs[index]
        if not self.enabled or not item.payload_json:
            return
        payload = item.payload() or {}
        if status == "Interrupted":
            payload = self._interrupted_payload(index)
        extras = payload.setdefault(EXTRAS_KEY, {})
        metadata = extras.setdefault("metadata", {})
        if item.attempts > 1:
            metadata["attempt"] = item.attempts
            metadata["retry_of"] = item.lost_sessions[-1]
        self.pending.append((index, payload))

    def interrupted(self, index: int, *, lost: bool = False) -> None:
        """Queue the save of an input's current session as ``Interrupted``. A ``lost``
        one (its input runs again) is named ``<name>-lost<n>``, so the session that
        runs next keeps the input's own name and file."""
        item = self.state.inputs[index]
        if not self.enabled or not item.session_id:
            return
        payload = self._interrupted_payload(index)
        if lost:
            payload["session_name"] = (
                f"{self.session_name(index)}-lost{len(item.lost_sessions) + 1}"
            )
        self.pending.append((index, payload))

    async def flush(self) -> None:
        """Write every queued session (in a thread) and record where each went."""
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        saved = await asyncio.to_thread(self._write, batch)
        for index, path in saved:
            self.state.inputs[index].path = path

    def _interrupted_payload(self, index: int) -> dict[str, Any]:
        item = self.state.inputs[index]
        payload = item.payload() if item.payload_json else None
        now = time.time()
        if payload is None:
            payload = {
                "flow_name": self.flow.name,
                "flow_id": self.flow.equality_hash(),
                "session_id": item.session_id,
                "session_name": self.session_name(index),
                "start_time": item.started or now,
                "end_time": now,
                "runs": [],
                EXTRAS_KEY: {
                    "format": 1,
                    "flow_name": self.flow.name,
                    "metadata": {
                        **self.flow.metadata,
                        "batch_id": self.state.batch_id,
                        "input_index": index,
                        "worker": item.worker,
                    },
                },
            }
        extras = payload.setdefault(EXTRAS_KEY, {})
        extras["status"] = "Interrupted"
        if payload.get("end_time") is None:
            payload["end_time"] = now
        return payload

    def _write(self, batch: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, str]]:
        out = []
        for index, payload in batch:
            try:
                path = save_payload(
                    payload, payload.get("session_name") or self.session_name(index)
                )
            except Exception:  # a session that cannot be saved is never lost in silence
                logger.exception("input %d: its session could not be saved", index)
                continue
            out.append((index, str(path)))
        return out
