"""The notebook layer: the ``%%rt_session`` magic, the anywidget widgets and their
wire format, the static display, plotly figures and file exports.

Sits on top of every other layer and talks to the engine only through its public
objects and the publisher.
"""
