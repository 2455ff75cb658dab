"""The foundations every layer uses: errors, configuration, the shared vocabulary
(status names, colours, titles), turning values into JSON, and writing JSON fast.

Imports nothing else of railtracks_nb.
"""
