"""Remix: a new flow started from a saved session.

The remix inherits the saved session's name, context, configuration and tags
(each overridable) and records its parent. A configuration read from a file
is data: options that name paths (``log_file``) are never inherited, so a
crafted or foreign file cannot make a remix write where it says.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.exceptions import ConfigError, RemixError
from ..store.files import session_path
from ..store.loading import load
from ..store.lookup import home_folder, lookup
from ..store.records import SessionRecord
from . import logs

if TYPE_CHECKING:
    from .flow import Flow

logger = logs.get_logger("Store")

#: The suffix a remix adds to its parent's name; later remixes count up: ``(remix 2)``.
REMIX_SUFFIX = " (remix)"
_REMIX_RE = re.compile(r" \(remix(?: (\d+))?\)$")

#: The session options a remix inherits from its parent's saved configuration.
#: ``run_identifier`` is left out on purpose: the remix is a new session with its own id.
#: ``broadcast_callback`` is saved only by name (a function cannot be saved), so it
#: cannot be inherited; pass it again if the remix needs it. ``log_file`` is a path:
#: a saved file is data, so where a remix logs is never taken from it (pass ``log_file=``).
REMIX_OPTIONS: tuple[str, ...] = (
    "timeout",
    "end_on_error",
    "logging_setting",
    "save_state",
    "prompt_injection",
)
_OVERRIDABLE = (*REMIX_OPTIONS, "log_file", "broadcast_callback", "metadata")


def remix_name(parent_name: str, home: str | os.PathLike[str] | None = None) -> str:
    """The name a remix of ``parent_name`` gets: ``"<name> (remix)"``, else ``(remix 2)``, ...

    A remix of a remix counts up instead of stacking suffixes; the first name
    that no saved file in ``home`` uses yet is taken, so remixing never
    overwrites an earlier remix's saved state.
    """
    folder = home_folder(home)
    base = _REMIX_RE.sub("", parent_name) or parent_name
    candidate = base + REMIX_SUFFIX
    n = 2
    while session_path(candidate, folder).exists():
        candidate = f"{base} (remix {n})"
        n += 1
    return candidate


def _inherited_options(config: Any, session_id: str) -> dict[str, Any]:
    """The parent's saved options that are still valid (a bad one is skipped, with a warning)."""
    from ..core.config import make_config

    out: dict[str, Any] = {}
    if not isinstance(config, dict):
        return out
    for key in REMIX_OPTIONS:
        value = config.get(key)
        if value is None:
            continue
        if key == "timeout" and isinstance(value, str):  # inf is saved as the string "inf"
            try:
                value = float(value)
            except ValueError:
                pass
        try:
            make_config(**{key: value})
        except ConfigError as exc:
            logger.warning("Not inheriting %s from session %s: %s", key, session_id, exc)
            continue
        out[key] = value
    return out


def remix(
    session_id: str | SessionRecord | os.PathLike[str],
    entry_point: Any = None,
    name: str | None = None,
    context: Mapping[str, Any] | None = None,
    *,
    home: str | os.PathLike[str] | None = None,
    **config: Any,
) -> Flow:
    """A new :class:`~railtracks_nb.Flow` started from a saved session.

    The flow inherits, each overridable:

    - the **name**: ``"<parent name> (remix)"`` (see :func:`remix_name`), or ``name``;
    - the **context** saved with the parent, or ``context`` (which replaces it
      whole; to change a few keys use ``rt.remix(id).update_context({...})``);
    - the **configuration** (``timeout``, ``end_on_error``, ``logging_setting``,
      ``save_state``, ``prompt_injection``), each replaced by a keyword of the
      same name; ``log_file=`` and ``broadcast_callback=`` may be given too, but
      are never inherited (a path in a saved file is data, and a callback is
      saved only by its name);
    - the **metadata** (tags), or ``metadata={...}``;
    - the **entry point**: the node type named like the parent's first run,
      found among the node types this process has defined, or ``entry_point``.

    The flow's sessions record the parent's id (``parent_id``), which
    :func:`sessions` shows. An unknown option or an invalid value raises
    :class:`ConfigError` naming it; an entry node that cannot be found raises
    :class:`RemixError` asking for ``entry_point``.
    """
    from .flow import Flow
    from .registry import find_node_type

    unknown = sorted(set(config) - set(_OVERRIDABLE))
    if unknown:
        raise ConfigError(
            f"Unknown remix option(s) {', '.join(unknown)}; a remix accepts entry_point, "
            f"name, context and {', '.join(_OVERRIDABLE)}."
        )
    folder = home_folder(home)
    record = lookup(session_id, "any", folder)
    saved = load(record.path)
    extras = saved.extras

    if entry_point is None:
        runs = list(saved.info.runs.values())
        if not runs:
            raise RemixError(
                f"Session {record.session_id} ({record.name}) has no runs, so its entry node "
                f"is unknown: pass entry_point=..."
            )
        try:
            entry_point = find_node_type(runs[0].name)
        except RemixError as exc:
            raise RemixError(
                f"Cannot remix session {record.session_id} ({record.name}): {exc}"
            ) from None

    options = _inherited_options(extras.get("config"), record.session_id)
    metadata = config.pop("metadata", None)
    if metadata is None:
        metadata = extras.get("metadata") if isinstance(extras.get("metadata"), dict) else {}
    elif not isinstance(metadata, Mapping):
        raise ConfigError(f"metadata must be a dict, got {type(metadata).__name__}")
    options.update(config)
    if context is None:
        saved_context = extras.get("context")
        context = saved_context if isinstance(saved_context, dict) else {}
    flow_name = name if name is not None else remix_name(record.name or record.session_id, folder)
    return Flow(
        flow_name,
        entry_point,
        context=context,
        parent_id=record.session_id,
        metadata=dict(metadata),
        **options,
    )


__all__ = ["REMIX_OPTIONS", "REMIX_SUFFIX", "remix", "remix_name"]
