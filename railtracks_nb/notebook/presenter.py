"""The notebook layer as the execution state's :class:`~railtracks_nb.execution.views.Presenter`.

``railtracks_nb/__init__.py`` registers it, so ``info.plot_graph()`` and a
session's rich display work without the execution layer importing this one.
plotly and the display code load on the first drawing, not at import.
"""

from __future__ import annotations

from typing import Any


class NotebookPresenter:
    """Draws session views with :mod:`.figures` and :mod:`.display`, batches with :mod:`.batch`."""

    def plot_graph(self, source: Any) -> Any:
        from .figures import plot_graph

        return plot_graph(source)

    def plot_timeline(self, source: Any) -> Any:
        from .figures import plot_timeline

        return plot_timeline(source)

    def mimebundle(self, source: Any) -> dict[str, Any]:
        from .display import mimebundle

        return mimebundle(source)

    def show_batch(self, state: Any) -> Any:
        from .batch import show_batch

        return show_batch(state)
