"""Store of sessions, frames, swaps and perf runs: an SQLite file or a PostgreSQL database."""

from stylebridge.store.location import StoreLocation, is_postgres_url, store_location
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
from stylebridge.store.store import Store

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
    "StoreLocation",
    "SwapRecord",
    "WriteStats",
    "is_postgres_url",
    "store_location",
]
