"""Pydantic models of the Railtracks saved-state format, used to validate files on load.

Lenient where Railtracks' own files differ from ours (extra keys are kept,
optional details default), strict on what the call graph needs.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _StampModel(BaseModel):
    step: int
    time: float
    identifier: str


class _NodeModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    identifier: str
    node_type: str
    name: str
    stamp: _StampModel
    details: dict[str, Any] = Field(default_factory=dict)
    parent: _NodeModel | None = None


class _EdgeDetails(BaseModel):
    model_config = ConfigDict(extra="allow")
    input_args: list[Any] = Field(default_factory=list)
    input_kwargs: dict[str, Any] = Field(default_factory=dict)
    status: str = "Open"
    output: Any = None


class _EdgeModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    source: str | None = None
    target: str
    identifier: str
    stamp: _StampModel
    details: _EdgeDetails
    parent: _EdgeModel | None = None


class _RunModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    run_id: str
    name: str
    status: str = "Open"
    start_time: float | None = None
    end_time: float | None = None
    nodes: list[_NodeModel]
    edges: list[_EdgeModel]
    steps: list[_StampModel]


class _SessionModel(BaseModel):
    model_config = ConfigDict(extra="allow")
    session_id: str
    session_name: str | None = None
    start_time: float
    end_time: float | None = None
    runs: list[_RunModel]
