"""The C# generated from protos/ and the Mono compile check (tools/gen_csharp.py,
tools/unity_check.sh): deterministic output, a --check that notices every kind of drift,
Unity metadata that stays stable, and a compile check that fails on a wrong stub."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent
GENERATED = REPO / "unity/Assets/StyleTransfer/Generated"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_csharp", REPO / "tools/gen_csharp.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_csharp"] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def _generate_into(root: Path) -> Path:
    out = root / "StyleTransfer" / "Generated"
    assert gen.main(["--out", str(out)]) == 0
    return out


def _snapshot(out: Path) -> dict[str, bytes]:
    files = {p.name: p.read_bytes() for p in out.iterdir()}
    files["<folder meta>"] = (out.parent / "Generated.meta").read_bytes()
    return files


def test_committed_csharp_matches_protos() -> None:
    assert gen.main(["--check", "--out", str(GENERATED)]) == 0


def test_generation_is_byte_identical(tmp_path: Path) -> None:
    first = _snapshot(_generate_into(tmp_path / "a"))
    second = _snapshot(_generate_into(tmp_path / "b"))
    assert first == second
    assert {
        "Bridge.cs",
        "Common.cs",
        "Control.cs",
        "StyleBridge.Generated.asmdef",
    } <= set(first)
    for name in [n for n in first if n.endswith((".cs", ".asmdef"))]:
        assert f"{name}.meta" in first, f"{name} has no .meta: Unity would ignore it"


def test_check_reports_changed_missing_and_extra_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _generate_into(tmp_path)
    bridge = out / "Bridge.cs"
    text = bridge.read_text()
    assert "public ulong MaxFrameBytes {" in text
    bridge.write_text(
        text.replace("public ulong MaxFrameBytes {", "public ulong MaxFrameByte {")
    )
    (out / "Common.cs.meta").unlink()
    (out / "Stray.cs").write_text("// not generated\n")
    capsys.readouterr()

    assert gen.main(["--check", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert re.search(r"changed: .*Bridge\.cs", err)
    assert re.search(r"missing: .*Common\.cs\.meta", err)
    assert re.search(r"extra: +.*Stray\.cs", err)
    assert "-    public ulong MaxFrameByte {" in err
    assert "+    public ulong MaxFrameBytes {" in err
    assert "run `make proto`" in err

    assert gen.main(["--out", str(out)]) == 0  # regeneration repairs all three
    assert not (out / "Stray.cs").exists()
    assert gen.main(["--check", "--out", str(out)]) == 0


def test_check_notices_a_stale_folder_meta(tmp_path: Path) -> None:
    out = _generate_into(tmp_path)
    (out.parent / "Generated.meta").unlink()
    assert gen.main(["--check", "--out", str(out)]) == 1


def test_meta_guids_are_stable_and_unique(tmp_path: Path) -> None:
    out = _generate_into(tmp_path)
    metas = [*sorted(out.glob("*.meta")), out.parent / "Generated.meta"]
    pattern = re.compile(r"^guid: ([0-9a-f]{32})$", re.MULTILINE)
    guids = [pattern.search(m.read_text()) for m in metas]
    assert all(guids)
    values = [g.group(1) for g in guids if g]
    assert len(set(values)) == len(values)
    # The scheme (md5 of the path inside the package) is part of the contract: a user's
    # scenes reference these GUIDs, so changing it would break them.
    assert gen.unity_guid("Generated/Bridge.cs") == "bfb1e0c57eefd2e643613c79d00c2725"
    bridge_meta = (out / "Bridge.cs.meta").read_text()
    assert f"guid: {gen.unity_guid('Generated/Bridge.cs')}" in bridge_meta


def test_asmdef_references_only_google_protobuf() -> None:
    asmdef = json.loads((GENERATED / "StyleBridge.Generated.asmdef").read_text())
    assert asmdef["name"] == "StyleBridge.Generated"
    assert asmdef["references"] == []
    assert asmdef["overrideReferences"] is True
    assert asmdef["precompiledReferences"] == ["Google.Protobuf.dll"]
    assert asmdef["noEngineReferences"] is True


def test_package_manifest_is_a_upm_package() -> None:
    package = json.loads((REPO / "unity/Assets/StyleTransfer/package.json").read_text())
    assert package["name"] == "com.stylebridge.styletransfer"
    assert package["version"] == "0.1.0"
    assert package["unity"] == "2021.3"
    assert (REPO / "unity/Assets/StyleTransfer/package.json.meta").is_file()


needs_mcs = pytest.mark.skipif(
    shutil.which("mcs") is None, reason="Mono mcs not installed"
)


def _copy_for_compile(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "tools").mkdir(parents=True)
    shutil.copy(REPO / "tools/unity_check.sh", root / "tools")
    shutil.copytree(REPO / "unity/ReferenceStubs", root / "unity/ReferenceStubs")
    shutil.copytree(GENERATED, root / "unity/Assets/StyleTransfer/Generated")
    return root


def _unity_check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "tools/unity_check.sh"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@needs_mcs
def test_generated_csharp_compiles_against_the_stubs(tmp_path: Path) -> None:
    root = _copy_for_compile(tmp_path)
    result = _unity_check(root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (root / "build/unity/StyleBridge.Generated.dll").is_file()
    assert (root / "build/unity-stubs/Google.Protobuf.dll").is_file()


@needs_mcs
@pytest.mark.parametrize(
    ("stub", "real", "wrong"),
    [
        ("ParseContext.cs", "public ulong ReadUInt64()", "public long ReadUInt64()"),
        (
            "IBufferMessage.cs",
            "InternalWriteTo(ref WriteContext ctx)",
            "InternalWriteTo(WriteContext ctx)",
        ),
    ],
)
def test_a_wrong_stub_signature_fails_the_compile(
    tmp_path: Path, stub: str, real: str, wrong: str
) -> None:
    root = _copy_for_compile(tmp_path)
    path = root / "unity/ReferenceStubs/Google.Protobuf" / stub
    text = path.read_text()
    assert real in text
    path.write_text(text.replace(real, wrong))
    result = _unity_check(root)
    assert result.returncode != 0
    assert "error CS" in result.stderr
