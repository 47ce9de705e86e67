"""A real local Ray for tests: its own head on this machine, stopped afterwards.

``address="local"`` always starts a new head, so a Ray another process runs on this
machine is never joined; the dashboard stays off (it is a second server and slow to
start on two cores) and workers' logs stay in /tmp/ray instead of the test output.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import ray


@contextmanager
def local_ray(num_cpus: int = 2) -> Iterator[dict[str, float]]:
    """Ray started for the block with ``num_cpus`` CPUs; yields its cluster resources."""
    if ray.is_initialized():
        raise RuntimeError("Ray is already initialised in this process; one test Ray at a time")
    ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    try:
        yield ray.cluster_resources()
    finally:
        ray.shutdown()
