"""The shared bridge-rule vectors (tests/vectors/bridge_rules.json) on the Python side: they are
written from the Python implementations by tools/make_bridge_vectors.py and run by the C# NUnit
BridgeRulesTests under `make unity-check`; here the file must be current, and the C# strings that
the C# tests cannot see (versions chosen by asmdef defines) must be the ones pinned."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

from stylebridge.engines.targets import Engine

REPO = Path(__file__).resolve().parent.parent
VECTORS = REPO / "tests/vectors/bridge_rules.json"
RUNTIME = REPO / "unity/Assets/StyleTransfer/Runtime"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_bridge_vectors", REPO / "tools/make_bridge_vectors.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_bridge_vectors"] = module
    spec.loader.exec_module(module)
    return module


def test_committed_vectors_are_current(tmp_path: Path) -> None:
    gen = _generator()
    assert gen.main(["--check"]) == 0, "run python tools/make_bridge_vectors.py"
    assert gen.main(["--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "bridge_rules.json").read_text())
    doc["retryable"][0]["retried"] = not doc["retryable"][0]["retried"]
    (tmp_path / "bridge_rules.json").write_text(json.dumps(doc))
    assert gen.main(["--check", "--out", str(tmp_path)]) == 1


def test_vectors_cover_every_rule() -> None:
    doc = json.loads(VECTORS.read_text())
    assert len(doc["backoff"]["cases"]) >= 40
    assert [c["code"] for c in doc["retryable"]] == list(range(17))
    assert {c["compatible"] for c in doc["protocol_version"]["cases"]} == {True, False}
    assert len(doc["receive_limit"]) >= 3
    assert set(doc["enums"]) == {"EngineKind", "PixelFormat", "TimingMethod", "AckStatus"}
    assert len(doc["session"]["scenarios"]) >= 5
    perf = doc["perf_sequence"]["cases"]
    # Every case: player info on RESET, then exactly one result, in the step of its last frame.
    for case in perf:
        flat = [kind for step in case["steps"] for kind in step]
        assert flat == ["player_info", "case_result"], case
        assert case["steps"].index(["case_result"]) == case["warmup"] + case["measured"]


def test_versions_the_unity_client_can_report_are_the_pinned_ones() -> None:
    # InstalledPackages.cs picks the reported version by asmdef define at compile time, which the
    # Mono check compiles one branch of; every literal it can return must be pinned here, and each
    # must map onto the engine table of its family.
    source = (RUNTIME / "Unity/Inference/InstalledPackages.cs").read_text()
    literals = set(re.findall(r'return "([^"]+)";', source))
    pinned = {e["version"]: e for e in json.loads(VECTORS.read_text())["client"]["engine_versions"]}
    assert literals == set(pinned)
    for entry in pinned.values():
        expected = Engine.BARRACUDA_3 if entry["kind"] == "barracuda" else Engine.SENTIS_1
        assert entry["engine"] == expected.value


def test_client_name_is_the_package_name_and_version() -> None:
    package = json.loads((REPO / "unity/Assets/StyleTransfer/package.json").read_text())
    protocol = (RUNTIME / "Core/BridgeProtocol.cs").read_text()
    assert f'ClientName = "{package["name"]}/{package["version"]}";' in protocol
