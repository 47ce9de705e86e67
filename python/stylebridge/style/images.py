"""Pictures the built-in style is trained and judged on: only what packages ship.

Matplotlib's sample data (a portrait photograph and two terrain models, rendered
with colour maps and hill shading) plus procedural pictures drawn from a seed.
Game frames are not ours to redistribute, so a model that ships is never trained
on them. The held-out set shares no pixels with the training set: the bottom
third of the portrait, a different terrain model and a different procedural seed.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from stylebridge.frames import load_image

# Rows of the portrait above this fraction train; the rest is held out.
_PORTRAIT_SPLIT = 2 / 3


def training_images() -> list[tuple[str, np.ndarray]]:
    """Named H x W x 3 uint8 RGB pictures to train on."""
    portrait = _portrait()
    split = round(portrait.shape[0] * _PORTRAIT_SPLIT)
    dem = _dem("jacksboro_fault_dem.npz", "elevation")
    return [
        ("portrait-top", portrait[:split]),
        ("jacksboro-gist_earth", _render_terrain(dem, "gist_earth")),
        ("jacksboro-terrain", _render_terrain(dem, "terrain")),
        ("jacksboro-viridis", _render_terrain(dem, "viridis")),
        ("shapes-1", procedural_scene(1)),
        ("shapes-2", procedural_scene(2)),
        ("pack", _sample_png("Minduka_Present_Blue_Pack.png")),
    ]


def heldout_images() -> list[tuple[str, np.ndarray]]:
    """Named pictures never trained on, for measuring fidelity to the filter."""
    portrait = _portrait()
    split = round(portrait.shape[0] * _PORTRAIT_SPLIT)
    bathy = _dem("topobathy.npz", "topo")
    return [
        ("portrait-bottom", portrait[split:]),
        ("topobathy-ocean", _render_terrain(bathy, "ocean")),
        ("shapes-99", procedural_scene(99)),
    ]


def procedural_scene(seed: int, size: tuple[int, int] = (384, 288)) -> np.ndarray:
    """A seeded picture of soft gradients, filled shapes and fine noise (width, height)."""
    rng = np.random.default_rng(seed)
    width, height = size
    yy = np.mgrid[0:height, 0:width][0].astype(np.float32)
    top, bottom = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    t = (yy / max(height - 1, 1))[..., None]
    image = (top * (1 - t) + bottom * t).astype(np.float32)
    for _ in range(int(rng.integers(12, 20))):
        colour = tuple(float(c) for c in rng.uniform(0, 255, 3))
        centre = (int(rng.integers(width)), int(rng.integers(height)))
        if rng.random() < 0.5:
            radius = int(rng.integers(10, min(width, height) // 3))
            cv2.circle(image, centre, radius, colour, thickness=-1, lineType=cv2.LINE_AA)
        else:
            corner = (int(rng.integers(width)), int(rng.integers(height)))
            cv2.rectangle(image, centre, corner, colour, thickness=-1, lineType=cv2.LINE_AA)
    image = cv2.GaussianBlur(image, (0, 0), 1.2)
    image += rng.normal(0, 2, image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


@lru_cache(maxsize=1)
def _portrait() -> np.ndarray:
    from matplotlib import cbook

    return load_image(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def _sample_png(name: str) -> np.ndarray:
    from matplotlib import cbook

    return load_image(cbook.get_sample_data(name, asfileobj=False))


def _dem(name: str, key: str) -> np.ndarray:
    from matplotlib import cbook

    with cbook.get_sample_data(name) as data:
        return np.asarray(data[key], dtype=np.float64)


def _render_terrain(elevation: np.ndarray, cmap: str) -> np.ndarray:
    import matplotlib
    from matplotlib.colors import LightSource

    shaded = LightSource(azdeg=315, altdeg=45).shade(
        elevation, cmap=matplotlib.colormaps[cmap], vert_exag=0.05, blend_mode="overlay"
    )
    rgb = np.clip(shaded[:, :, :3] * 255.0 + 0.5, 0, 255).astype(np.uint8)
    # Small models are shown larger, as a game camera would see them.
    height, width = rgb.shape[:2]
    if max(height, width) < 400:
        factor = 400 / max(height, width)
        rgb = cv2.resize(rgb, (round(width * factor), round(height * factor)), cv2.INTER_CUBIC)
    return rgb
