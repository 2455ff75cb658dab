"""Railtracks 1.7 names that are outside railtracks_nb's scope.

railtracks_nb is the Railtracks *session system* (nodes, calls, sessions,
flows, context, state, middleware). Railtracks' LLM, agent, guardrail, MCP,
retrieval, evaluation and observability features are not part of it. Code
written for Railtracks 1.7 that reaches for one of them, as ``rt.agent_node``
or ``from railtracks_nb import agent_node``, gets :class:`OutOfScopeError`
saying so, rather than a bare "no attribute". It is an ``ImportError`` (as
Railtracks' own error for its missing retrieval extra is): an
``AttributeError`` would be replaced by Python's generic "cannot import name"
in a ``from`` import.
"""

from __future__ import annotations

#: Railtracks 1.7 top-level name -> the feature area it belongs to.
OUT_OF_SCOPE: dict[str, str] = {
    "llm": "LLMs",
    "agent_node": "agents",
    "astream": "agents (streaming an agent's tokens)",
    "decision_node": "LLM decisions",
    "decisions": "LLM decisions",
    "guardrails": "guardrails",
    "input_guard": "guardrails",
    "output_guard": "guardrails",
    "pre_llm": "LLM middleware",
    "post_llm": "LLM middleware",
    "before_llm": "LLM middleware",
    "after_llm": "LLM middleware",
    "wrap_llm": "LLM middleware",
    "NodeMessageHistory": "LLMs (an agent's message history)",
    "ToolManifest": "agents (LLM tool manifests)",
    "MCPStdioParams": "MCP",
    "MCPHttpParams": "MCP",
    "connect_mcp": "MCP",
    "create_mcp_server": "MCP",
    "retrieval": "retrieval",
    "evaluations": "evaluations",
    "observability": "observability (Railtracks' event pipeline; subscribe to "
    "session.publisher instead)",
    "integrations": "agents (third-party integrations)",
    "prebuilt.tools": "agents (prebuilt tools)",
    "prebuilt.guardrails": "guardrails",
    "prebuilt.middleware.Retry": "LLM middleware (retrying provider errors)",
    "prebuilt.middleware.ContextInjection": "LLM middleware (prompt context injection)",
    "prebuilt.middleware.ConversationMemory": "LLM middleware (an agent's memory)",
    "interactive": "agents (the local chat UI)",
}


class OutOfScopeError(ImportError):
    """A Railtracks 1.7 name that belongs to a feature railtracks_nb does not provide."""


def out_of_scope(name: str) -> OutOfScopeError | None:
    """The error for Railtracks name ``name`` if it is out of scope, else ``None``."""
    area = OUT_OF_SCOPE.get(name)
    if area is None:
        return None
    return OutOfScopeError(
        f"rt.{name} is part of Railtracks' {area} support, which is outside the scope of "
        "railtracks_nb: it provides the Railtracks session system (nodes, rt.call, "
        "sessions, flows, context, execution state, node middleware). Use Railtracks "
        f"itself for {area}.",
        name=name,
    )


__all__ = ["OUT_OF_SCOPE", "OutOfScopeError", "out_of_scope"]
