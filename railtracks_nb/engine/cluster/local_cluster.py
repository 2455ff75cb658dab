"""The cluster a batch runs on: the flow as workers get it, and a ``LocalCluster``
started on demand (closed by the batch that started it)."""

from __future__ import annotations

import os
from typing import Any


def shipped_flow(flow: Any) -> Any:
    """The flow as the workers get it: the options ``rt.set_config`` sets here filled
    in (workers are other processes, with their own, empty, global configuration),
    and saving off (the notebook saves each session into its own store)."""
    from ...core.config import FIELDS, get_config

    given = {k: v for k, v in get_config().items() if k in FIELDS}
    # Only values to fill in: an option the flow leaves unset (None) takes the global
    # one, and Flow._replace keeps what the flow set, timeout=None ("no limit") too.
    fill = {k: given[k] for k, v in flow.options.items() if v is None and k in given}
    if getattr(flow, "_no_timeout", False):
        fill.pop("timeout", None)
    return flow._replace(**fill, save_state=False)


def effective_save_state(flow: Any, save_state: bool | None) -> bool:
    from ...core.config import resolve_config

    if save_state is not None:
        return bool(save_state)
    return bool(resolve_config(save_state=flow.options.get("save_state")).save_state)


def start_local_cluster(options: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """A ``LocalCluster`` of worker processes and a client of it.

    One thread per worker (pure-Python nodes hold the GIL: processes, not
    threads, run them in parallel), as many workers as CPUs, the dashboard on
    a free port, and workers that survive an interrupt of the notebook's cell
    (:class:`~.interrupts.IgnoreInterrupts`).
    """
    from distributed import Client, LocalCluster

    from .interrupts import IgnoreInterrupts

    settings: dict[str, Any] = {
        "n_workers": max(1, os.cpu_count() or 1),
        "threads_per_worker": 1,
        "processes": True,
        "dashboard_address": ":0",  # a free port: never a clash with another cluster
    }
    settings.update(options or {})
    cluster = LocalCluster(**settings)
    try:
        client = Client(cluster)
        client.register_plugin(IgnoreInterrupts())
    except BaseException:
        cluster.close()
        raise
    return cluster, client


def scheduler_address(client: Any) -> str:
    try:
        return str(client.scheduler.address)
    except Exception:
        return "?"


def close_cluster(client: Any, cluster: Any) -> None:
    client.close()
    cluster.close()
