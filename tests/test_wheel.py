"""The package installs from a clean clone: a wheel built from the committed tree, installed
into a fresh virtualenv, runs ``stylebridge --help``, ``check`` and ``serve``.

The clone is of this repository's HEAD (what CI and ``pip install git+...`` see: nothing
uncommitted, nothing ignored). The wheel is built offline (``--no-build-isolation``
with this venv's setuptools) and installed with ``--no-index --no-deps``; the fresh venv
reaches the already installed dependencies (numpy, torch, onnx, grpcio, ...) through a
``.pth`` line placed after its own site-packages, so ``stylebridge`` itself can only come
from the wheel (asserted). Regression: the generated ``stylebridge/v1/*_pb2.py`` were
once git-ignored, and such a wheel could not import its own messages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(240)

REPO = Path(__file__).resolve().parent.parent


def _run(args: list[str], cwd: Path | None = None, timeout: float = 180) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          check=False, env={**os.environ, "PIP_NO_INPUT": "1"})
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh venv with the wheel of a clean clone installed."""
    if shutil.which("git") is None:
        pytest.fail("git is required to clone the repository for the wheel test")
    root = tmp_path_factory.mktemp("wheel")
    clone = root / "clone"
    _run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(clone)])
    dist = root / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
          "--no-build-isolation", "--wheel-dir", str(dist), str(clone / "python")])
    (wheel,) = dist.glob("stylebridge-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("stylebridge/v1/bridge_pb2.py", "stylebridge/v1/bridge_pb2_grpc.py",
                   "stylebridge/v1/control_pb2.py", "stylebridge/v1/common_pb2.py",
                   "stylebridge/catalog/__init__.py", "stylebridge/py.typed"):
        assert needed in names, f"{needed} missing from {wheel.name}"
    assert any(n.startswith("stylebridge/style/builtin/") and n.endswith(".onnx") for n in names)
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    purelib = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    # Dependencies from this environment, searched after the fresh venv's own packages.
    deps = sysconfig.get_paths()["purelib"]
    (purelib / "zz_stylebridge_test_deps.pth").write_text(deps + "\n")
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-index",
          "--no-deps", str(wheel)])
    return venv / "bin"


def test_the_wheel_imports_from_the_fresh_venv(installed: Path) -> None:
    out = _run([str(installed / "python"), "-c",
                "import stylebridge, stylebridge.v1.bridge_pb2 as b; print(stylebridge.__file__)"])
    assert str(installed.parent) in out, out


def test_help_and_check_run_from_the_wheel(installed: Path, models_dir: Path) -> None:
    out = _run([str(installed / "stylebridge"), "--help"])
    assert "serve" in out and "optimize" in out
    out = _run([str(installed / "stylebridge"), "check", str(models_dir / "mosaic.onnx"),
                "--engine", "barracuda-3"])
    assert "barracuda" in out.lower()


def test_serve_starts_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    server = subprocess.Popen(
        [str(installed / "stylebridge"), "serve", "--port", "0", "--backend", "identity",
         "--store", str(tmp_path / "store.sqlite")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        deadline = time.monotonic() + 60
        seen = ""
        assert server.stdout is not None
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            seen += line
            if "listening on" in line:
                break
        assert "listening on 127.0.0.1:" in seen, seen
    finally:
        server.terminate()
        server.wait(timeout=30)
