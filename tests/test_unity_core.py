"""The Unity package's Runtime/Core under Mono (tools/unity_check.sh runs its NUnit tests)
and the tool that keeps its `.meta` files (tools/unity_meta.py).

Proves that the C# tests really run (a count parsed from NUnit's results, not just exit 0)
and that they really read the shared vectors: a copy with one expectation changed fails,
naming the case."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest

from stylebridge.paths import shared_dir

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "unity/Assets/StyleTransfer"
CORE = PACKAGE / "Runtime/Core"
EDIT_MODE = PACKAGE / "Tests/EditMode"
# Fixtures of Tests/EditMode that must show up in NUnit's results.
FIXTURES = {
    "SwapStateMachineTests",
    "ChunkAssemblerTests",
    "SessionStateMachineTests",
    "TimingStatsTests",
    "FramePackingTests",
    "LatestSlotTests",
    "InputScalingTests",
    "RateMeterTests",
}


def _load_meta_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("unity_meta", REPO / "tools/unity_meta.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["unity_meta"] = module
    spec.loader.exec_module(module)
    return module


meta_tool = _load_meta_tool()

needs_mono = pytest.mark.skipif(
    shutil.which("mcs") is None or shutil.which("nunit-console") is None,
    reason="Mono mcs / nunit-console not installed (make unity-check installs them as root)",
)


# Rows of unity_check.sh kept in the copy: the full package compile (every stub, every
# assembly) is test_csharp.py's job; here only what the Core tests need, to stay fast.
CORE_ROWS = (
    "Google.Protobuf|",
    "StyleBridge.Generated|",
    "StyleBridge.Core|",
    "StyleBridge.Tests.EditMode|",
)


def _core_only(script: str) -> str:
    """unity_check.sh with only the STUBS / ASSEMBLIES rows in CORE_ROWS."""
    kept = []
    for line in script.splitlines(keepends=True):
        row = line.strip()
        is_row = row.startswith('"') and row.count("|") >= 2
        if is_row and not row.lstrip('"').startswith(CORE_ROWS):
            continue
        kept.append(line)
    return "".join(kept)


def _copy_repo(root: Path) -> Path:
    """What unity_check.sh reads (the script cut to Core's rows, the stubs, the package and
    the vectors)."""
    (root / "tools").mkdir(parents=True)
    script = (REPO / "tools/unity_check.sh").read_text()
    for row in CORE_ROWS:
        assert f'"{row}' in script, f"unity_check.sh has no {row} row"
    (root / "tools/unity_check.sh").write_text(_core_only(script))
    for tool in ("run_nunit.sh", "check_stub_api.py", "ApiDump.cs"):
        shutil.copy(REPO / "tools" / tool, root / "tools")
    shutil.copytree(REPO / "unity/ReferenceStubs", root / "unity/ReferenceStubs")
    shutil.copytree(PACKAGE, root / "unity/Assets/StyleTransfer")
    shutil.copytree(REPO / "tests/vectors", root / "tests/vectors")
    return root


def _unity_api() -> Path:
    """The real assemblies' API listings that unity_check.sh checks the stubs against."""
    root = shared_dir()
    if root is None or not (root / "unity-api").is_dir():
        pytest.fail("../shared/unity-api (the real assemblies' API listings) is required")
    return root / "unity-api"


def _unity_check(root: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "STYLEBRIDGE_VECTORS"}
    env["STYLEBRIDGE_UNITY_API"] = str(_unity_api())
    return subprocess.run(
        ["bash", "tools/unity_check.sh"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
    )


@pytest.fixture(scope="module")
def checked_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = _copy_repo(tmp_path_factory.mktemp("unity") / "repo")
    result = _unity_check(root)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@needs_mono
def test_core_nunit_tests_ran_and_passed(checked_copy: Path) -> None:
    results = ET.parse(checked_copy / "build/unity/nunit-results.xml").getroot()
    assert int(results.get("total", "0")) >= 50
    assert int(results.get("failures", "1")) == 0
    assert int(results.get("errors", "1")) == 0
    assert int(results.get("ignored", "1")) == 0, "vector tests must not be skipped here"
    ran = {
        case.get("name", "").split(".")[-2]
        for case in results.iter("test-case")
        if case.get("executed") == "True" and case.get("success") == "True"
    }
    assert ran >= FIXTURES
    vector_tests = [
        case.get("name", "")
        for case in results.iter("test-case")
        if case.get("name", "").endswith(".SharedVectors") and case.get("success") == "True"
    ]
    assert len(vector_tests) == 4, vector_tests
    assert (checked_copy / "build/unity/StyleBridge.Core.dll").is_file()


def _tamper(path: Path, edit: object) -> str:
    doc = json.loads(path.read_text())
    name = edit(doc)  # type: ignore[operator]
    path.write_text(json.dumps(doc))
    return str(name)


@needs_mono
def test_a_changed_vector_fails_the_csharp_tests(checked_copy: Path, tmp_path: Path) -> None:
    vectors = tmp_path / "vectors"
    shutil.copytree(REPO / "tests/vectors", vectors)

    def timing(doc: dict) -> str:
        case = doc["cases"][-1]
        case["expect"]["p90_ms"] += 0.001
        return case["name"]

    def swap(doc: dict) -> str:
        case = doc["cases"][0]
        case["expect"]["states"][-1] = "Ready"
        return case["name"]

    def frames(doc: dict) -> str:
        case = doc["pack"][0]
        case["wire_hex"] = "00" + case["wire_hex"][2:]
        return case["name"]

    def bridge(doc: dict) -> str:
        case = next(c for c in doc["retryable"] if c["name"] == "UNAVAILABLE")
        case["retried"] = False
        return case["name"]

    names = [
        _tamper(vectors / "bridge_rules.json", bridge),
        _tamper(vectors / "timing_stats.json", timing),
        _tamper(vectors / "swap_state.json", swap),
        _tamper(vectors / "frame_packing.json", frames),
    ]
    # The assemblies built by unity_check.sh, run again on the changed vectors (named by the
    # environment variable, as unity_check.sh names the real ones).
    result = subprocess.run(
        [
            str(REPO / "tools/run_nunit.sh"),
            str(tmp_path / "results.xml"),
            str(checked_copy / "build/unity/StyleBridge.Tests.EditMode.dll"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "STYLEBRIDGE_VECTORS": str(vectors)},
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Failures: 4" in output
    for name in names:
        assert name in output, f"the failure does not name the tampered case {name!r}"


def test_core_and_edit_mode_metas_are_complete() -> None:
    assert meta_tool.main(["--check", str(CORE), str(EDIT_MODE)]) == 0
    assert meta_tool.main(["--check", "--shallow", str(CORE.parent), str(EDIT_MODE.parent)]) == 0


def test_meta_tool_reports_and_repairs_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = tmp_path / "StyleTransfer"
    shutil.copytree(CORE, package / "Runtime/Core")
    shutil.copy(CORE.parent / "Core.meta", package / "Runtime")
    shutil.copy(PACKAGE / "package.json", package)
    core = package / "Runtime/Core"
    assert meta_tool.main(["--check", str(core)]) == 0
    (core / "TimingStats.cs.meta").unlink()
    (core / "Stray.cs.meta").write_text("fileFormatVersion: 2\n")
    backoff = core / "Backoff.cs.meta"
    backoff.write_text(backoff.read_text().replace("guid: ", "guid: 0"))
    capsys.readouterr()
    assert meta_tool.main(["--check", str(core)]) == 1
    err = capsys.readouterr().err
    assert "missing: " in err and "TimingStats.cs.meta" in err
    assert "wrong: " in err and "Backoff.cs.meta" in err
    assert "orphan: " in err and "Stray.cs.meta" in err
    assert meta_tool.main([str(core)]) == 0
    (core / "Stray.cs.meta").unlink()
    assert meta_tool.main(["--check", str(core)]) == 0
    # The GUID is the md5 of the path inside the package: same scheme as the generated C#.
    guid = meta_tool.gen.unity_guid("Runtime/Core/TimingStats.cs")
    assert f"guid: {guid}\n" in (core / "TimingStats.cs.meta").read_text()


def test_meta_tool_refuses_a_path_outside_a_package(tmp_path: Path) -> None:
    (tmp_path / "x.cs").write_text("")
    assert meta_tool.main(["--check", str(tmp_path / "x.cs")]) == 2


def test_core_asmdef_has_no_engine_and_no_protocol_dependency() -> None:
    asmdef = json.loads((CORE / "StyleBridge.Core.asmdef").read_text())
    assert asmdef["name"] == "StyleBridge.Core"
    assert asmdef["noEngineReferences"] is True
    assert asmdef["references"] == []
    tests = json.loads((EDIT_MODE / "StyleBridge.Tests.EditMode.asmdef").read_text())
    assert "StyleBridge.Core" in tests["references"]
    assert tests["includePlatforms"] == ["Editor"]
    assert tests["precompiledReferences"] == ["nunit.framework.dll"]
    assert tests["defineConstraints"] == ["UNITY_INCLUDE_TESTS"]
    for source in CORE.glob("*.cs"):
        text = source.read_text()
        assert "using UnityEngine" not in text, f"{source.name} uses UnityEngine"
