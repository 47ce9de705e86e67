"""The store's condition in one line, worded the same by the server and by the client.

Kept below both ``store`` (which writes it into the server's log) and ``client`` (which
prints what a server reported over gRPC), so the client needs no import of the store.
"""

from __future__ import annotations


def describe_store(path: str, ok: bool, error: str, lost_writes: int) -> str:
    """The store's condition in one line (the server's log and `stylebridge sessions`)."""
    if ok:
        lost = f"; {lost_writes} writes lost earlier" if lost_writes else ""
        return f"store {path}: writing{lost}"
    return (
        f"store {path}: NOT WRITING ({error}); frames are answered but not "
        f"stored; {lost_writes} writes lost so far"
    )
