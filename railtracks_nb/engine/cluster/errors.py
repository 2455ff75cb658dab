"""Errors of running a flow over a Dask cluster."""

from __future__ import annotations

from ...core.exceptions import RTError


class ShippingError(RTError, TypeError):
    """A flow (its entry point, a node it closes over, its context or an option)
    cannot be serialised for the workers. Raised before anything is submitted."""


class WorkerLostError(RTError, RuntimeError):
    """The worker running an input's session died (and the session was not retried,
    or ran out of retries). The session is saved with status ``Interrupted``."""


class BatchCancelledError(RTError, RuntimeError):
    """An input whose session never finished because the batch was cancelled."""
