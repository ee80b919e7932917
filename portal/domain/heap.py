"""Bulk jobs and Python's cyclic garbage collector (issue 20).

A job that builds tens of thousands of rows (the deadline sweep's alerts, the weekly report's lists) keeps
enough objects alive to set off full collections, and each one walks the whole application heap (~150,000
objects: 40-140 ms apiece, a fifth of a 10,000-alert sweep). `frozen()` keeps the collector off the objects
that existed before the job while it runs; everything the job allocates is collected as usual."""

import gc
import threading
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0  # the freeze is process-wide: the last job out (of nested or concurrent ones) ends it


@contextmanager
def frozen():
    """Process-wide and harmless to other threads: it only postpones looking at the old objects."""
    global _holders
    with _lock:
        if _holders == 0:
            gc.freeze()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                gc.unfreeze()
