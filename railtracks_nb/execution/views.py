r"""What every session-like object offers: figures and a rich notebook display.

The same :class:`Presenter` shows a running ``flow.map`` batch.

``ExecutionInfo``, ``Session`` and ``SavedSession`` are :class:`SessionView`\ s.
Drawing them is the notebook layer's work, and this layer imports nothing of it:
the notebook layer registers itself as the :class:`Presenter` when the package is
imported (see ``railtracks_nb/__init__.py``), and loads its plotting and IPython
code only when a view is first drawn.
"""

from __future__ import annotations

from typing import Any, Protocol


class Presenter(Protocol):
    """Draws session views: what :class:`SessionView` delegates to."""

    def plot_graph(self, source: Any) -> Any: ...

    def plot_timeline(self, source: Any) -> Any: ...

    def mimebundle(self, source: Any) -> dict[str, Any]: ...

    def show_batch(self, state: Any) -> Any:
        """Display a running batch's dashboard and return the observer that keeps it
        up to date (``refresh(state, changed)``), for ``flow.map`` in a kernel."""
        ...


_presenter: Presenter | None = None


def use_presenter(presenter: Presenter) -> None:
    """Make ``presenter`` draw every :class:`SessionView` from now on."""
    global _presenter
    _presenter = presenter


def presenter() -> Presenter:
    """The registered :class:`Presenter`."""
    if _presenter is None:  # only when the package's __init__ did not run to the end
        raise RuntimeError("railtracks_nb's notebook layer is not loaded: import railtracks_nb")
    return _presenter


class SessionView:
    """What every session-like object offers (``ExecutionInfo``, ``Session``,
    ``SavedSession``): plotly figures and a rich notebook display."""

    def plot_graph(self, **layout: Any) -> Any:
        """The call graph as a ``plotly.graph_objects.Figure``; ``layout`` goes to
        ``update_layout``."""
        figure = presenter().plot_graph(self)
        return figure.update_layout(**layout) if layout else figure

    def plot_timeline(self, **layout: Any) -> Any:
        """One bar per node on a time axis, as a ``plotly.graph_objects.Figure``."""
        figure = presenter().plot_timeline(self)
        return figure.update_layout(**layout) if layout else figure

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """A text summary and a static HTML/SVG picture of the call graph."""
        return presenter().mimebundle(self)
