"""Where an optimize run executes: in this process, or as tasks on a Ray cluster.

``[ray]`` in a recipe TOML (or ``optimize --ray ADDRESS``, which wins over the file)::

    [ray]
    address = "local"        # local | auto | ray://host:10001 | host:6379
    cpus = 1                 # per variant task, and per student trial
    gpus = 0                 # per training task (distill, structured fine-tune, trials)
    memory_gb = 2            # per task; Ray refuses to place it on a node without it
    storage = "/mnt/farm/stylebridge"   # checkpoints: a path every node mounts
    max_retries = 2          # a task whose worker dies is run again (from its checkpoint)

None of these change what a variant is (they are not in any recipe key), only where
and how fast it is built, so a catalog built on a cluster is reused by a local run.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

LOCAL = "local"
AUTO = "auto"
_HOST_PORT = re.compile(r"^(ray://)?(?P<host>[A-Za-z0-9._-]+|\[[0-9A-Fa-f:]+\]):(?P<port>\d{1,5})$")


class RaySettings(BaseModel):
    """How variant builds are placed on Ray (``address`` None: not on Ray at all)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    address: str | None = None
    cpus: Annotated[float, Field(gt=0)] = 1.0
    gpus: Annotated[float, Field(ge=0)] = 0.0
    memory_gb: Annotated[float, Field(gt=0)] | None = 2.0
    storage: str | None = None  # None: the catalog's own .work folder (one machine)
    max_retries: Annotated[int, Field(ge=0, le=10)] = 2
    dashboard: bool = True  # `local` only: start Ray's dashboard and print its link
    connect_timeout_s: Annotated[float, Field(gt=0, le=600)] = 10.0

    @field_validator("address")
    @classmethod
    def _known(cls, address: str | None) -> str | None:
        if address is None or address in (LOCAL, AUTO) or _HOST_PORT.match(address):
            return address
        raise ValueError(f"Ray address {address!r} is not 'local', 'auto', "
                         "'ray://HOST:PORT' (Ray Client) or 'HOST:PORT' (the head's GCS)")

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def memory_bytes(self) -> int | None:
        return None if self.memory_gb is None else int(self.memory_gb * 1024**3)

    def endpoint(self) -> tuple[str, int] | None:
        """(host, port) to probe before joining; None for local and auto."""
        match = _HOST_PORT.match(self.address or "")
        if match is None:
            return None
        return match["host"].strip("[]"), int(match["port"])
