"""Running many sessions of a flow on a Dask cluster (``flow.map``/``flow.amap``).

Engine-level: imports the engine, the store and Dask (``distributed``,
``cloudpickle``), never widgets or IPython. Importing ``railtracks_nb`` does not
import this package; ``Flow.map`` does, on first use.

- :mod:`.runner`: the notebook side of a batch (submit, follow, cancel);
- :mod:`.transitions`: each input's states, from its rows and its task's result;
- :mod:`.saving`: each input's session written into the notebook's store as it ends;
- :mod:`.local_cluster`: the flow as workers get it, and the ``LocalCluster`` started on demand;
- :mod:`.progress`: the batch dashboard in a kernel, a log line elsewhere;
- :mod:`.worker`: the task each input runs on a worker;
- :mod:`.feed`: the rows workers stream back, through Dask's event channel;
- :mod:`.shipping`: the pickling check made before anything runs;
- :mod:`.state` and :mod:`.result`: what the notebook knows and gets back.
"""

from __future__ import annotations

from .errors import BatchCancelledError, ShippingError, WorkerLostError
from .result import BatchResult
from .runner import amap_flow, start_local_cluster
from .state import BatchObserver, BatchState, InputState

__all__ = [
    "BatchCancelledError",
    "BatchObserver",
    "BatchResult",
    "BatchState",
    "InputState",
    "ShippingError",
    "WorkerLostError",
    "amap_flow",
    "start_local_cluster",
]
