"""What runs on a Dask worker: one input's session of a flow.

:func:`run_input` is the task the batch submits, once per input. It runs the
flow's entry point in a new session on a fresh event loop in the worker's
thread, streams rows back (:mod:`.feed`), and returns an envelope with the
result or the error and the session's final payload (as JSON text: the client
saves it into the notebook's store, so a worker never needs the notebook's
disk). A cancelled task (the batch was cancelled) is noticed within
``CANCEL_POLL`` seconds by reading the worker's own task state (no round trip):
the session's nodes are cancelled and it closes as ``Interrupted``.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from ...core.encoding import dumps_payload
from ...core.serialization import to_jsonable
from ..call import call
from ..session import Session
from .feed import DEFAULT_INTERVAL, RowSender

#: Seconds between two looks at whether this input's task was cancelled.
CANCEL_POLL = 0.2


def payload_json(session: Any) -> str:
    """The session's saved-state payload as JSON text (values that are not JSON
    become readable strings, as in saved files). By orjson when it takes the
    payload as it is (the usual case: about half the cost), else by the general walk."""
    payload = session.to_payload()
    try:
        return dumps_payload(payload).decode("utf-8")
    except (TypeError, ValueError):
        return json.dumps(to_jsonable(payload), ensure_ascii=False, allow_nan=False)


def _portable(value: Any) -> Any:
    """``value`` if it survives pickling (the result travels back to the client),
    else a ``RuntimeError`` that says what it was."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    try:
        import cloudpickle

        cloudpickle.dumps(value)
    except Exception as exc:  # any pickling failure: report it instead of failing the task
        return RuntimeError(
            f"{type(value).__name__} result could not be sent back from the worker: {exc}"
        )
    return value


def load_flow(blob: bytes) -> Any:
    """The batch's flow, from the bytes cloudpickle made of it in the notebook."""
    import cloudpickle

    return cloudpickle.loads(blob)


def run_input(
    index: int,
    args: tuple[Any, ...],
    name: str,
    *,
    flow: Any,
    batch_id: str,
    topic: str,
    live_interval: float = DEFAULT_INTERVAL,
) -> dict[str, Any]:
    """Run ``flow`` on one input (``args``) in its own session; return the envelope.

    The envelope: ``index``, ``session_id``, ``worker``, ``status``
    (``Completed``/``Failed``/``Interrupted``), ``value`` or ``error`` (an
    exception object), ``payload`` (JSON text) and ``started``/``ended`` times.
    """
    from distributed import get_worker
    from distributed.worker import thread_state

    worker = get_worker()
    key = getattr(thread_state, "key", None)

    def cancelled() -> bool:
        task = worker.state.tasks.get(key) if key is not None else None
        return task is None or task.state in ("cancelled", "released", "forgotten")

    def send(row: dict[str, Any]) -> None:
        worker.log_event(topic, row)

    return asyncio.run(
        _run(flow, index, args, batch_id, name, worker.address, send, cancelled, live_interval)
    )


async def _run(
    flow: Any,
    index: int,
    args: tuple[Any, ...],
    batch_id: str,
    name: str,
    address: str,
    send: Any,
    cancelled: Any,
    live_interval: float,
) -> dict[str, Any]:
    metadata = {**flow.metadata, "batch_id": batch_id, "input_index": index, "worker": address}
    session = Session(
        flow._context,  # copied by the session: each input gets its own
        name=name,
        flow_name=flow.name,
        flow_id=flow.equality_hash(),
        _parent_id=flow.parent_id,
        _metadata=metadata,
        **_session_options(flow),
    )
    head = {"index": index, "session_id": session.identifier, "worker": address}
    sender = RowSender(send, head, lambda: payload_json(session), live_interval)
    session.publisher.subscribe(sender.changed, "railtracks-batch-feed", inline=True)
    started = time.time()
    sender.row("start")
    envelope: dict[str, Any] = {**head, "started": started}
    runner = asyncio.ensure_future(_invoke(session, flow.entry_point, args))
    watching = asyncio.ensure_future(_watch(runner, sender, cancelled))
    try:
        value = await runner
    except asyncio.CancelledError:
        envelope.update(status="Interrupted", error=None)
    except Exception as exc:
        envelope.update(status="Failed", error=_portable(exc))
    else:
        envelope.update(status="Completed", value=_portable(value))
        if isinstance(envelope["value"], RuntimeError) and not isinstance(value, RuntimeError):
            envelope.update(status="Failed", error=envelope.pop("value"))
    finally:
        watching.cancel()
    envelope["ended"] = time.time()
    envelope["payload"] = payload_json(session)
    # An interrupted session's result is dropped by Dask: its payload goes by the feed.
    interrupted = envelope["status"] == "Interrupted"
    sender.row(
        "end",
        status=envelope["status"],
        payload=envelope["payload"] if interrupted else None,
    )
    return envelope


def _session_options(flow: Any) -> dict[str, Any]:
    """The flow's options as ``Flow`` hands them to its sessions: unset ones left out
    (``Session(timeout=None)`` means no timeout), ``timeout=None`` if the flow says so."""
    options = {k: v for k, v in flow.options.items() if v is not None}
    if getattr(flow, "_no_timeout", False):
        options["timeout"] = None
    return options


async def _invoke(session: Any, entry_point: Any, args: tuple[Any, ...]) -> Any:
    async with session:
        return await call(entry_point, *args)


async def _watch(runner: asyncio.Future[Any], sender: RowSender, cancelled: Any) -> None:
    """Send coalesced progress, and cancel the session when its task is cancelled."""
    tick = min(sender.interval, CANCEL_POLL)
    while not runner.done():
        await asyncio.sleep(tick)
        if cancelled():
            runner.cancel()
            return
        sender.tick()
