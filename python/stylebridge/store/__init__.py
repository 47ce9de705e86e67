"""SQLite store of sessions and per-frame timings; the server is its single writer."""

from stylebridge.store.records import (
    OPEN_STATES,
    STATE_CONNECTED,
    STATE_ENDED,
    STATE_INTERRUPTED,
    STATE_STREAMING,
    FrameRecord,
    ServerRecord,
    SessionRecord,
    StoreGap,
    StoreHealth,
    SwapRecord,
    WriteStats,
)
from stylebridge.store.schema import SCHEMA_VERSION
from stylebridge.store.sqlite import Store

__all__ = [
    "OPEN_STATES",
    "SCHEMA_VERSION",
    "STATE_CONNECTED",
    "STATE_ENDED",
    "STATE_INTERRUPTED",
    "STATE_STREAMING",
    "FrameRecord",
    "ServerRecord",
    "SessionRecord",
    "Store",
    "StoreGap",
    "StoreHealth",
    "SwapRecord",
    "WriteStats",
]
