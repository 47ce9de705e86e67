"""Frame rows handed to the store in bursts, not one by one.

Every ``Store.record_frame`` is a put on the store writer's queue, and a put that
finds the writer thread asleep wakes it: a thread switch per frame that cost about a
quarter of the server's CPU per frame at 640x360 (tests/bench/profile_bridge.py
--record). Rows of all streams are collected here on the event loop and handed over
together every ``FLUSH_S``: one wake per burst. A stream's rows are handed over when
it ends, before its session row is updated, so nothing is reordered within a session.
"""

from __future__ import annotations

import asyncio

from stylebridge.store import FrameRecord, Store

# Longest a frame row waits here before it goes to the store's queue, seconds.
FLUSH_S = 0.01


class FrameRows:
    """Collects frame rows on the event loop; ``flush`` hands them to the store."""

    def __init__(self, store: Store, *, flush_s: float = FLUSH_S) -> None:
        self._store = store
        self._flush_s = flush_s
        self._rows: list[FrameRecord] = []
        self._timer: asyncio.TimerHandle | None = None

    def record_frame(self, frame: FrameRecord) -> None:
        """Keep ``frame`` for the next burst (event loop only; never blocks)."""
        self._rows.append(frame)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._flush_s, self.flush)

    def flush(self) -> None:
        """Hand every kept row to the store now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        rows, self._rows = self._rows, []
        for row in rows:
            self._store.record_frame(row)
