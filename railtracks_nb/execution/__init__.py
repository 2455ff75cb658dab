"""Execution state: what a session records while it runs (stamps, the node and
request forests, runs, :class:`~railtracks_nb.execution.state.ExecutionInfo`) and
the Railtracks saved-state payload and call graph made from it.

Imports only :mod:`railtracks_nb.core`.
"""
