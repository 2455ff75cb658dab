"""Session configuration: :class:`ExecutorConfig` and the global ``rt.set_config``.

Precedence, as in Railtracks: arguments given to ``Session``/``Flow`` first,
then values set with :func:`set_config`, then the defaults below.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from .exceptions import ConfigError

LoggingSetting = Literal[
    "VERBOSE", "REGULAR", "QUIET", "NONE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"
]
LOGGING_SETTINGS: tuple[str, ...] = LoggingSetting.__args__  # type: ignore[attr-defined]


class ExecutorConfig(BaseModel):
    """How a session runs. Every field is validated; a bad value names its field."""

    model_config = ConfigDict(
        extra="forbid", arbitrary_types_allowed=True, validate_assignment=True, frozen=False
    )

    timeout: float | None = Field(
        150.0, gt=0, description="Seconds each top-level request may take; None: no limit."
    )
    end_on_error: bool = Field(False, description="End the whole run at the first node failure.")
    logging_setting: LoggingSetting = "REGULAR"
    log_file: str | os.PathLike[str] | None = Field(None, description="Also write logs here.")
    broadcast_callback: Callable[..., Any] | None = Field(
        None,
        validation_alias=AliasChoices("broadcast_callback", "subscriber"),
        description="Called with every rt.broadcast message (sync or async).",
    )
    run_identifier: str | None = Field(None, description="The session id (random if None).")
    prompt_injection: bool = Field(True, description="Fill {key} in prompts from the context.")
    save_state: bool = Field(True, description="Save .railtracks/<name>.json on exit.")
    payload_callback: Callable[..., Any] | None = Field(
        None, description="Called with the session's payload each time it closes."
    )

    @field_validator("logging_setting", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("timeout")
    @classmethod
    def _not_nan(cls, value: float | None) -> float | None:
        if value is not None and math.isnan(value):
            raise ValueError("timeout must be a number of seconds, not NaN")
        return value

    @property
    def subscriber(self) -> Callable[..., Any] | None:
        """Alias of ``broadcast_callback`` (the name Railtracks' documentation uses)."""
        return self.broadcast_callback


FIELDS: tuple[str, ...] = tuple(ExecutorConfig.model_fields)
_global: dict[str, Any] = {}


def _fail(error: ValidationError, what: str) -> ConfigError:
    parts = []
    for e in error.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "config"
        parts.append(f"{loc}: {e['msg']} (got {e.get('input')!r})")
    return ConfigError(f"Invalid {what}: " + "; ".join(parts))


def make_config(**values: Any) -> ExecutorConfig:
    """Validate ``values`` into an :class:`ExecutorConfig`, raising :class:`ConfigError`."""
    if "subscriber" in values and "broadcast_callback" not in values:
        values["broadcast_callback"] = values.pop("subscriber")
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ConfigError(
            f"Unknown session option(s) {', '.join(unknown)}; "
            f"valid options are {', '.join(FIELDS)} "
            f"(and, for rt.set_config, {', '.join(NOTEBOOK_FIELDS)})."
        )
    try:
        return ExecutorConfig(**values)
    except ValidationError as exc:
        raise _fail(exc, "session configuration") from None


class NotebookConfig(BaseModel):
    """Options of the notebook layer that ``rt.set_config`` also takes (not Session options)."""

    model_config = ConfigDict(extra="forbid")

    auto_display: bool = Field(
        True, description="%%rt_session shows the live dashboard unless dashboard=off."
    )


NOTEBOOK_FIELDS: tuple[str, ...] = tuple(NotebookConfig.model_fields)
_notebook: dict[str, Any] = {}


def set_config(**values: Any) -> None:
    """Set global defaults for every session created afterwards, e.g. ``set_config(timeout=30)``.

    Takes the options of ``Session`` and, for notebooks, ``auto_display``
    (whether ``%%rt_session`` shows the live dashboard when its ``dashboard``
    option is left at ``auto``). Values are validated now; ``None`` clears a
    previously set value, except ``timeout=None``, which means no timeout (as in
    Railtracks 1.7); :func:`reset_config` clears everything.
    """
    notebook = {k: values.pop(k) for k in NOTEBOOK_FIELDS if k in values}
    current = {**_global, **values}
    current = {k: v for k, v in current.items() if v is not None or k == "timeout"}
    make_config(**current)  # validate the whole set, so errors surface here
    notebook_now = {**_notebook, **notebook}
    notebook_now = {k: v for k, v in notebook_now.items() if v is not None}
    try:
        NotebookConfig(**notebook_now)
    except ValidationError as exc:
        raise _fail(exc, "notebook configuration") from None
    _global.clear()
    _global.update(current)
    if "subscriber" in _global:
        _global["broadcast_callback"] = _global.pop("subscriber")
    _notebook.clear()
    _notebook.update(notebook_now)


def get_config() -> dict[str, Any]:
    """The values set with :func:`set_config` (not the defaults)."""
    return {**_global, **_notebook}


def notebook_config() -> NotebookConfig:
    """The notebook options in force (set values over defaults)."""
    return NotebookConfig(**_notebook)


def reset_config() -> None:
    """Forget everything set with :func:`set_config`."""
    _global.clear()
    _notebook.clear()


def resolve_config(base: ExecutorConfig | None = None, **explicit: Any) -> ExecutorConfig:
    """Apply the precedence: ``explicit`` (non-None) > ``base`` > global values > defaults.

    ``base`` is a config the caller passed as a whole (``Session(executor_config)``):
    its fields all count as given.
    """
    values: dict[str, Any] = dict(_global)
    if base is not None:
        values.update({k: getattr(base, k) for k in FIELDS})
    values.update({k: v for k, v in explicit.items() if v is not None})
    return make_config(**values)
