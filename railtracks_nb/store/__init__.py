"""The saved-sessions store: writing and reading saved-state files safely (atomic
writes, locks, validation), the SQLite catalog that lists them, and the
operations on saved sessions (list, rename, tag, delete, restore, find).

Imports :mod:`~railtracks_nb.execution` and :mod:`~railtracks_nb.core`; a session
is handed to it, it never imports the engine.
"""
