"""The engine: nodes, calling them, sessions and flows, context, the publisher and
its messages, the lifecycle, and remixing saved sessions into new flows.

Imports the store, execution state and core; never IPython, widgets or plotting
code (checked by the import contracts in ``pyproject.toml``).
"""
