"""Shared fixtures: the real models and game frames in ../shared, read in place."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylebridge.paths import shared_dir


@pytest.fixture(scope="session")
def shared() -> Path:
    root = shared_dir()
    if root is None:
        pytest.fail("../shared (or STYLEBRIDGE_SHARED) with models/ and frames/ is required")
    return root


@pytest.fixture(scope="session")
def models_dir(shared: Path) -> Path:
    return shared / "models"


@pytest.fixture(scope="session")
def frames_dir(shared: Path) -> Path:
    return shared / "frames"


@pytest.fixture(scope="session")
def frame_paths(frames_dir: Path) -> list[Path]:
    paths = sorted(frames_dir.glob("*.png"))
    assert paths, f"no frames in {frames_dir}"
    return paths


@pytest.fixture(scope="session")
def three_frames(tmp_path_factory: pytest.TempPathFactory, frame_paths: list[Path]) -> Path:
    """Three real frames, linked (not copied) into a folder of their own: optimize runs."""
    folder = tmp_path_factory.mktemp("frames")
    for path in frame_paths[:3]:
        os.symlink(path, folder / path.name)
    return folder


def load_rgb(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """An RGB uint8 HWC array, optionally resized to (width, height)."""
    with Image.open(path) as image:
        image = image.convert("RGB")
        if size is not None:
            image = image.resize(size, Image.Resampling.BILINEAR)
        return np.asarray(image, dtype=np.uint8).copy()


@pytest.fixture(scope="session")
def small_frames(frame_paths: list[Path]) -> list[np.ndarray]:
    """Four real game frames at 320x180: enough for agreement tests, fast on 2 cores."""
    return [load_rgb(p, (320, 180)) for p in frame_paths[:4]]


@pytest.fixture(scope="session")
def pg_cluster():  # type: ignore[no-untyped-def]
    """A real PostgreSQL server for the session (see tests/pg_cluster.py), then gone."""
    from pg_cluster import Cluster

    cluster = Cluster()
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def pg_url(pg_cluster, monkeypatch: pytest.MonkeyPatch) -> str:  # type: ignore[no-untyped-def]
    """An empty database of the test cluster; its password comes from PGPASSWORD."""
    if not pg_cluster.running():
        pg_cluster.start()  # an outage test may have left it stopped on failure
    monkeypatch.setenv("PGPASSWORD", pg_cluster.password)
    return str(pg_cluster.database())


@pytest.fixture(params=["sqlite", "postgresql"])
def store_at(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a store goes, once per engine: an SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "store.sqlite"
    return str(request.getfixturevalue("pg_url"))
