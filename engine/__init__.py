"""ADHMR Studio engine: all computation, no Qt.

Usable from a notebook or a cluster job: nothing here imports Qt.
"""

__version__ = "0.1.0"
