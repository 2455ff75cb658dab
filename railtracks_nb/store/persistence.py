"""Saving sessions to ``.railtracks/<name>.json``.

Files follow the Railtracks saved-state schema, so Railtracks' own tools read
ours. The write is atomic (see :mod:`.files`) and noted in the catalog under the
store's lock, so a concurrent rename, tag or save is never lost.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.encoding import collector_paused, dumps_payload, dumps_stdlib, payload_separator
from ..core.exceptions import SavedStateError
from ..core.extras import EXTRAS_KEY
from ..execution.payload import build_payload_head, payload_pieces, run_head
from ..execution.payload_structs import slice_writer
from .locking import store_lock
from .safe_read import read_payload

if TYPE_CHECKING:

    from ..engine.session import Session

from .files import _display_path, atomic_write_chunks, railtracks_home, session_path

logger = logging.getLogger("RT.Session")

def save_payload(payload: dict[str, Any], name: str, home: Path | None = None) -> Path:
    """Save ``payload`` as ``<home>/<name>.json``, warning if it overwrites a file.

    Written by the standard library's ``json``, which refuses NaN and infinities.
    """
    return _save(payload, name, home, lambda final: [dumps_stdlib(final)])


def save_session(session: Session) -> Path:
    """Save a session under its name, else its flow's name, else its identifier.

    The file is encoded as it is written, a slice of nodes at a time (see
    :func:`~railtracks_nb.execution.payload.payload_pieces`): the records as msgspec
    structs (:mod:`~railtracks_nb.execution.payload_structs`), the rest by orjson,
    each falling back to the standard library when it is not installed.
    What the store needs (the name, the tags, the catalog's summary) is worked
    out on a light payload: the head, the extras and each run's node ids.
    """
    name = session.name or session.flow_name or session.identifier
    info = session.rt_state.info
    # As Session.to_payload: the flow's name and id first, then the Railtracks fields.
    head = {"flow_name": session.flow_name, "flow_id": session.flow_id}
    head.update(build_payload_head(info))
    light: dict[str, Any] = {
        **head,
        "runs": [
            {**run_head(info, run), "nodes": [{"identifier": n} for n in run.node_ids]}
            for run in info.runs.values()
        ],
        EXTRAS_KEY: session.extras(),  # brought up to date, as JSON
    }

    def pieces(final: dict[str, Any]) -> Iterable[bytes | memoryview]:
        first = {key: final.get(key) for key in head}
        extras = final.get(EXTRAS_KEY) or None
        return payload_pieces(
            info,
            EXTRAS_KEY,
            extras,
            dumps_payload,
            payload_separator(),
            head=first,
            fast=slice_writer(),
        )

    path = _save(light, name, None, pieces)
    logger.debug("Saved session state to %s", _display_path(path))
    return path


def _save(
    payload: dict[str, Any],
    name: str,
    home: Path | None,
    pieces: Callable[[dict[str, Any]], Iterable[bytes | memoryview]],
) -> Path:
    """Write ``pieces(payload)`` as ``<home>/<name>.json`` (``payload`` given the name and
    tags the store keeps for its file first), and note it in the catalog."""
    from .catalog_refresh import note_saved, previous_save

    home = home or railtracks_home()
    path = session_path(name, home)
    # The check and the write are one step for other processes (and the store's
    # tag/rename/delete), so none of them can slip in between and be lost.
    with store_lock(home):
        session_id = payload.get("session_id")
        # A session is one file: saved again after rt.rename_session, it goes
        # back to the file it was renamed to, not to a second file of its old name.
        target, known = (
            previous_save(home, session_id, path) if isinstance(session_id, str) else (path, None)
        )
        if target.exists():
            logger.warning("File %s already exists, overwriting...", _display_path(target))
            if known is None:
                payload = _keep_store_metadata(payload, target)
            elif known.session_id == session_id and known.source == "ours":
                payload = _with_store_fields(payload, known.name, known.metadata)
        with collector_paused():  # the pieces are trees of fresh dicts: see collector_paused
            atomic_write_chunks(target, pieces(payload))
        note_saved(home, target, payload)
    return target


def _with_store_fields(payload: dict[str, Any], name: Any, metadata: Any) -> dict[str, Any]:
    """``payload`` with the name and tags the store gave its file (rename, tag)."""
    extras = payload.get(EXTRAS_KEY)
    flow_name = extras.get("flow_name") if isinstance(extras, dict) else None
    own = payload.get("session_name") or flow_name or payload.get("flow_name")
    payload = dict(payload)
    if isinstance(name, str) and name != own:  # renamed by rt.rename_session
        payload["session_name"] = name
    if isinstance(extras, dict) and isinstance(metadata, dict):
        payload[EXTRAS_KEY] = {**extras, "metadata": metadata}
    return payload


#: A file's top-level session id, in its first bytes (both encoders' spellings). The
#: first ``"session_id":`` of a file is the top-level one: it comes before the runs,
#: and a string value cannot hold an unescaped quote.
_SESSION_ID_HEAD = re.compile(rb'"session_id"\s*:\s*"([^"\\]*)"')


def _keep_store_metadata(payload: dict[str, Any], path: Path) -> dict[str, Any]:
    """A session saved again (closed, reopened, closed) keeps the tags that
    ``rt.tag_session`` put in its file meanwhile, and the name ``rt.rename_session``
    gave it: the file is their record."""
    try:
        with path.open("rb") as handle:
            start = handle.read(512)
    except OSError:
        return payload
    match = _SESSION_ID_HEAD.search(start)
    if match is not None and match.group(1).decode("utf-8", "replace") != payload.get(
        "session_id"
    ):
        return payload  # another session's file: no need to read all of it
    try:
        old = read_payload(path)
    except SavedStateError:
        return payload
    if old.get("session_id") != payload.get("session_id"):
        return payload
    old_extras, new_extras = old.get(EXTRAS_KEY), payload.get(EXTRAS_KEY)
    if isinstance(old.get("session_name"), str):
        payload = {**payload, "session_name": old["session_name"]}
    if not isinstance(old_extras, dict) or not isinstance(new_extras, dict):
        return payload
    if "metadata" in old_extras:
        payload = {**payload, EXTRAS_KEY: {**new_extras, "metadata": old_extras["metadata"]}}
    return payload


# -- loading ---------------------------------------------------------------------------
