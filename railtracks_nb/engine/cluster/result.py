"""What ``flow.map`` returns: the results in input order, and the batch behind them."""

from __future__ import annotations

from typing import Any

from .state import BatchState


class BatchResult(list):
    """The results of a batch, one per input, in input order.

    A list: an input whose session failed holds its exception (``errors`` maps
    those indices to them). ``batch_id`` is in every saved session's metadata;
    ``state`` has each input's worker, session id, status and attempts, and is
    what the batch dashboard draws; :meth:`sessions` lists the saved sessions.
    """

    def __init__(
        self, values: list[Any], state: BatchState, errors: dict[int, BaseException]
    ) -> None:
        super().__init__(values)
        self.state = state
        self.errors = dict(sorted(errors.items()))

    @property
    def batch_id(self) -> str:
        return self.state.batch_id

    @property
    def ok(self) -> bool:
        """Whether every input's session completed."""
        return not self.errors

    def raise_first_error(self) -> None:
        """Raise the error of the first input that failed (if any), with a note
        saying how many failed and which batch saved their sessions."""
        if not self.errors:
            return
        first = min(self.errors)
        error = self.errors[first]
        if hasattr(error, "add_note"):
            error.add_note(
                f"input {first} of {len(self)}; {len(self.errors)} input(s) failed; "
                f"every session was saved (batch {self.batch_id})"
            )
        raise error

    def session_ids(self) -> list[str | None]:
        """The id of each input's (last) session, in input order."""
        return [item.session_id for item in self.state.inputs]

    def sessions(self, *, include_lost: bool = True) -> list[Any]:
        """The batch's sessions in the store (``rt.sessions()`` records), by input
        index; with ``include_lost``, sessions of workers that died are listed too."""
        from ...store.sessions import sessions

        mine = [r for r in sessions() if r.metadata.get("batch_id") == self.batch_id]
        if not include_lost:
            current = set(self.session_ids())
            mine = [r for r in mine if r.session_id in current]
        return sorted(mine, key=lambda r: (r.metadata.get("input_index", -1), r.start_time))

    def __repr__(self) -> str:
        return f"BatchResult({list.__repr__(self)}, batch_id={self.batch_id!r})"
