"""Join (or start) the Ray cluster an optimize run uses, and fail fast when it cannot.

``ray.init`` on an address nobody answers retries for a long time, which on a CI
machine reads as a hang. So a ``HOST:PORT`` or ``ray://HOST:PORT`` address is probed
with a plain TCP connect first (``connect_timeout_s``), and every connection failure
becomes a :class:`ClusterUnreachableError` that names the address and what to check.
A cluster this run started (``local``) is shut down when the run ends; a cluster it
joined is only disconnected from.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from stylebridge.errors import StyleBridgeError
from stylebridge.optimize.ray_settings import AUTO, LOCAL, RaySettings

_log = logging.getLogger(__name__)


class ClusterUnreachableError(StyleBridgeError):
    """The Ray cluster named by ``--ray`` could not be reached or joined."""


@dataclass(frozen=True)
class Cluster:
    """The cluster a run is connected to."""

    address: str
    started_here: bool
    dashboard_url: str | None
    cpus: float
    gpus: float
    nodes: int

    def describe(self) -> str:
        where = "started on this machine" if self.started_here else f"joined {self.address}"
        gpus = f", {self.gpus:g} GPUs" if self.gpus else ""
        return f"Ray {where}: {self.nodes} node(s), {self.cpus:g} CPUs{gpus}"


def probe(host: str, port: int, timeout_s: float) -> None:
    """Raise ClusterUnreachableError unless something accepts TCP at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise ClusterUnreachableError(
            f"cannot reach the Ray cluster at {host}:{port} ({reason} after at most "
            f"{timeout_s:g} s); is `ray start --head` running there, is the port open "
            "(10001 for ray://, 6379 for the GCS), and is the address right?") from exc


def _send_token() -> None:
    """Send the cluster's token when joining one, if this machine has it.

    Ray 2.60 turns token authentication on for every cluster, but a driver joining one
    does not look for the token by itself: without RAY_AUTH_MODE=token it sends none.
    Seen here with `ray start --head`: over Ray Client the head waits 30 s and refuses;
    by the GCS address, every call is "Authentication token is missing or incorrect".
    This is Ray's own switch (a private function of the pinned ray 2.60).
    """
    from ray._private.authentication.authentication_token_setup import (
        maybe_enable_token_auth_if_token_available,
    )

    maybe_enable_token_auth_if_token_available(warn_if_disabled=False)


def _auto_endpoint() -> tuple[str, int]:
    """Where 'auto' would connect: RAY_ADDRESS, a Ray running here, or the last `ray start`.

    Resolved before ``ray.init`` so a stale /tmp/ray/ray_current_cluster (a head that died
    without `ray stop`) fails in seconds: ``ray.init`` waits minutes for that GCS (measured
    here: 5 min 27 s). Uses Ray's own lookup (pinned ray 2.60; a private function).
    """
    from ray._private.services import get_ray_address_from_environment

    try:
        found = get_ray_address_from_environment("auto", None)
    except ConnectionError as exc:
        raise ClusterUnreachableError(
            "cannot join Ray at 'auto': no running cluster was found (start one with `ray "
            f"start --head`, or set RAY_ADDRESS): {str(exc).splitlines()[0]}") from exc
    endpoint = RaySettings(address=str(found)).endpoint()
    if endpoint is None:
        raise ClusterUnreachableError(f"cannot join Ray at 'auto': it resolved to {found!r}, "
                                      "which is not HOST:PORT")
    return endpoint


@contextmanager
def connected(settings: RaySettings) -> Iterator[Cluster]:
    """Ray initialised for the duration of the block, per ``settings.address``."""
    import ray

    if not settings.enabled:
        raise StyleBridgeError("connected() needs a Ray address")
    address = settings.address or LOCAL
    endpoint = _auto_endpoint() if address == AUTO else settings.endpoint()
    if endpoint is not None:
        probe(*endpoint, settings.connect_timeout_s)
    if ray.is_initialized():
        raise ClusterUnreachableError("Ray is already initialised in this process; run one "
                                      "optimize per process")
    if address != LOCAL:
        _send_token()
    kwargs: dict[str, object] = {"log_to_driver": False, "configure_logging": False}
    if address == LOCAL:
        # A cluster of our own sends nothing home unless the user asked Ray to.
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        kwargs.update(address="local", num_cpus=os.cpu_count() or 1,
                      include_dashboard=settings.dashboard)
    else:
        kwargs["address"] = address
    try:
        context = ray.init(**kwargs)  # type: ignore[arg-type]
    except (ConnectionError, TimeoutError, RuntimeError) as exc:
        hint = ("no running cluster was found (start one with `ray start --head`, or set "
                "RAY_ADDRESS)" if address == AUTO else "the cluster did not accept the "
                "connection (Ray uses token authentication: is the head's ~/.ray/auth_token "
                "on this machine too?)")
        raise ClusterUnreachableError(f"cannot join Ray at {address!r}: {hint}: "
                                      f"{str(exc).splitlines()[0]}") from exc
    try:
        resources = ray.cluster_resources()
        dashboard = getattr(context, "dashboard_url", None) or None
        cluster = Cluster(address=address, started_here=address == LOCAL,
                          dashboard_url=f"http://{dashboard}" if dashboard and "://" not in
                          dashboard else dashboard,
                          cpus=float(resources.get("CPU", 0.0)),
                          gpus=float(resources.get("GPU", 0.0)),
                          nodes=len([n for n in ray.nodes() if n.get("Alive")]))
        _log.info("%s", cluster.describe())
        yield cluster
    finally:
        ray.shutdown()
