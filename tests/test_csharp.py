"""The C# generated from protos/ and the Mono compile check (tools/gen_csharp.py,
tools/unity_check.sh): deterministic output, a --check that notices every kind of drift,
Unity metadata that stays stable, and a compile check that fails on a wrong stub."""

from __future__ import annotations

import importlib.util
import json
import os
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
    spec = importlib.util.spec_from_file_location("gen_csharp", REPO / "tools/gen_csharp.py")
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
    bridge.write_text(text.replace("public ulong MaxFrameBytes {", "public ulong MaxFrameByte {"))
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
    # Barracuda's Google.Protobuf is 3.9.1: the generated code compiles against it only in
    # compatibility mode, which the asmdef defines for itself, and the Mono check sets likewise.
    assert asmdef["versionDefines"] == [
        {
            "name": "com.unity.barracuda",
            "expression": "0.7.0",
            "define": "GOOGLE_PROTOBUF_REFSTRUCT_COMPATIBILITY_MODE",
        }
    ]
    row = {r[0]: r for r in _table("ASSEMBLIES")}["StyleBridge.Generated"]
    assert row[3] == "GOOGLE_PROTOBUF_REFSTRUCT_COMPATIBILITY_MODE"


def test_package_manifest_is_a_upm_package() -> None:
    package = json.loads((REPO / "unity/Assets/StyleTransfer/package.json").read_text())
    assert package["name"] == "com.stylebridge.styletransfer"
    assert package["version"] == "0.1.0"
    assert package["unity"] == "2021.3"
    assert (REPO / "unity/Assets/StyleTransfer/package.json.meta").is_file()


needs_mcs = pytest.mark.skipif(shutil.which("mcs") is None, reason="Mono mcs not installed")


def _unity_api() -> Path:
    from stylebridge.paths import shared_dir

    root = shared_dir()
    if root is None or not (root / "unity-api").is_dir():
        pytest.fail("../shared/unity-api (the real assemblies' API listings) is required")
    return root / "unity-api"


def _copy_for_compile(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "tools").mkdir(parents=True)
    shutil.copy(REPO / "tools/unity_check.sh", root / "tools")
    shutil.copy(REPO / "tools/run_nunit.sh", root / "tools")
    shutil.copy(REPO / "tools/check_stub_api.py", root / "tools")
    shutil.copy(REPO / "tools/ApiDump.cs", root / "tools")
    shutil.copytree(REPO / "unity/ReferenceStubs", root / "unity/ReferenceStubs")
    # The whole package (every assembly row of unity_check.sh) and the shared vectors
    # that the Core tests read.
    shutil.copytree(GENERATED.parent, root / "unity/Assets/StyleTransfer")
    shutil.copytree(REPO / "tests/vectors", root / "tests/vectors")
    return root


def _unity_check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "tools/unity_check.sh"],
        cwd=root,
        env={**os.environ, "STYLEBRIDGE_UNITY_API": str(_unity_api())},
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
    ("stub", "real", "wrong", "said"),
    [
        (  # a changed signature
            "Google.Protobuf/CodedInputStream.cs",
            "public ulong ReadUInt64()",
            "public long ReadUInt64()",
            "CodedInputStream :: System.Int64 ReadUInt64(): not in Google.Protobuf-3.9.1.api.txt",
        ),
        (  # a member 3.9.1 lacks (Google.Protobuf 3.13+)
            "Google.Protobuf/CodedInputStream.cs",
            "public uint ReadTag()",
            "public uint ReadTag() { throw new NotImplementedException(); }\n"
            "        public void ReadRawMessage(IMessage message)",
            "CodedInputStream :: System.Void ReadRawMessage(Google.Protobuf.IMessage): not in",
        ),
        (  # RpcException.StatusCode came with Grpc.Core 1.11
            "Grpc.Core/Credentials.cs",
            "public Status Status { get",
            "public StatusCode StatusCode { get { throw new NotImplementedException(); } }\n"
            "        public Status Status { get",
            "RpcException :: prop Grpc.Core.StatusCode StatusCode get: not in Grpc.Core-1.10.0",
        ),
        (  # Channel derives from System.Object in 1.10 (ChannelBase came with the 1.21 split)
            "Grpc.Core/Channel.cs",
            "public class Channel\n",
            "public abstract class ChannelBase { }\n    public class Channel : ChannelBase\n",
            "Grpc.Core.ChannelBase: no such public type in Grpc.Core-1.10.0.api.txt",
        ),
    ],
)
def test_a_stub_that_differs_from_the_real_listing_fails_unity_check(
    tmp_path: Path, stub: str, real: str, wrong: str, said: str
) -> None:
    stderr = _failed_check_after_edit(tmp_path, f"unity/ReferenceStubs/{stub}", real, wrong)
    assert said in stderr, stderr
    assert "a stub declares API the real assembly lacks" in stderr


def _failed_check_after_edit(tmp_path: Path, path: str, real: str, wrong: str) -> str:
    """unity_check.sh's stderr on a copy where `real` (which must be there) became `wrong`."""
    root = _copy_for_compile(tmp_path)
    target = root / path
    text = target.read_text()
    assert real in text
    target.write_text(text.replace(real, wrong, 1))
    result = _unity_check(root)
    assert result.returncode != 0
    return result.stderr


@needs_mcs
@pytest.mark.parametrize(
    ("path", "real", "wrong", "error"),
    [
        (  # without the define, protoc 22's output needs IBufferMessage, which 3.9.1 lacks
            "tools/unity_check.sh",
            "|Google.Protobuf|GOOGLE_PROTOBUF_REFSTRUCT_COMPATIBILITY_MODE",
            "|Google.Protobuf|",
            "IBufferMessage",
        ),
        (  # UnityEditor.SessionState (a real class since Unity 5) against Core's SessionState
            "unity/Assets/StyleTransfer/Editor/StyleBridgeWindow.cs",
            "using SessionState = StyleBridge.Core.SessionState;",
            "",
            "error CS0104",
        ),
    ],
)
def test_the_two_unity_compile_errors_show_here_when_reintroduced(
    tmp_path: Path, path: str, real: str, wrong: str, error: str
) -> None:
    stderr = _failed_check_after_edit(tmp_path, path, real, wrong)
    assert error in stderr, stderr


# --- The Unity package around the generated code (issue 6): metas, asmdefs, stub citations. ---

PACKAGE = REPO / "unity/Assets/StyleTransfer"
STUBS_DIR = REPO / "unity/ReferenceStubs"
UNITY_CHECK = REPO / "tools/unity_check.sh"
GUID_LINE = re.compile(r"^guid: ([0-9a-f]{32})$", re.MULTILINE)
# Assemblies Unity itself provides to test asmdefs; they have no stubs because the package's
# tests only use NUnit attributes from them (compiled against nunit.framework here).
UNITY_TEST_ASSEMBLIES = {"UnityEngine.TestRunner", "UnityEditor.TestRunner"}


def _meta_problems(package: Path) -> list[str]:
    """What Unity would complain about: assets without a .meta (Unity would ignore or re-GUID
    them), .meta files without an asset, and GUIDs used twice (broken references)."""
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package)
        if any(part.endswith("~") or part.startswith(".") for part in rel.parts):
            continue  # Unity ignores `Samples~` and hidden entries: no metas there
        if path.suffix == ".meta":
            if not path.with_suffix("").exists():
                problems.append(f"orphan meta: {rel}")
            continue
        meta = path.parent / f"{path.name}.meta"
        if not meta.is_file():
            problems.append(f"no meta: {rel}")
            continue
        match = GUID_LINE.search(meta.read_text())
        if match is None:
            problems.append(f"no guid in {rel}.meta")
            continue
        guid = match.group(1)
        if guid in seen:
            problems.append(f"guid {guid} of {rel} already used by {seen[guid]}")
        seen[guid] = rel
    return problems


def test_every_package_asset_has_a_meta_with_a_unique_guid() -> None:
    assert _meta_problems(PACKAGE) == []


def test_meta_check_notices_missing_orphan_and_duplicate(tmp_path: Path) -> None:
    package = tmp_path / "StyleTransfer"
    shutil.copytree(PACKAGE, package)
    (package / "README.md.meta").unlink()
    (package / "Stray.cs.meta").write_text("fileFormatVersion: 2\nguid: " + "0" * 32 + "\n")
    editor_meta = package / "Editor.meta"
    runtime_guid = GUID_LINE.search((package / "Runtime.meta").read_text())
    assert runtime_guid is not None
    editor_meta.write_text(GUID_LINE.sub(f"guid: {runtime_guid.group(1)}", editor_meta.read_text()))
    problems = "\n".join(_meta_problems(package))
    assert "no meta: README.md" in problems
    assert "orphan meta: Stray.cs.meta" in problems
    assert re.search(r"guid [0-9a-f]{32} of Runtime already used by Editor", problems)


def _table(name: str) -> list[list[str]]:
    """Rows of a `NAME=( "a|b|c" ... )` table in unity_check.sh, split on `|`."""
    text = UNITY_CHECK.read_text()
    block = re.search(rf"^{name}=\(\n(.*?)^\)", text, re.MULTILINE | re.DOTALL)
    assert block is not None, f"no {name} table in {UNITY_CHECK}"
    return [row.split("|") for row in re.findall(r'^\s+"([^"]*)"', block.group(1), re.MULTILINE)]


def _asmdefs() -> dict[str, tuple[Path, dict[str, object]]]:
    found: dict[str, tuple[Path, dict[str, object]]] = {}
    for path in sorted(PACKAGE.rglob("*.asmdef")):
        data = json.loads(path.read_text())
        name = data["name"]
        assert name not in found, f"{name} declared by {path} and {found[name][0]}"
        found[name] = (path, data)
    return found


def test_asmdefs_reference_only_known_assemblies_and_are_all_compiled() -> None:
    asmdefs = _asmdefs()
    stubs = {row[0] for row in _table("STUBS")}
    compiled = {row[0]: row for row in _table("ASSEMBLIES")}
    assert set(asmdefs) == set(compiled), (
        "every asmdef must be compiled by unity_check.sh, and only those"
    )
    for name, (path, data) in asmdefs.items():
        references = data.get("references", [])
        assert isinstance(references, list)
        unknown = set(references) - set(asmdefs) - stubs - UNITY_TEST_ASSEMBLIES
        assert not unknown, (
            f"{path.name} references {sorted(unknown)}: not in the package or the stubs"
        )
        folder = compiled[name][1].replace("$PKG_SRC", str(PACKAGE))
        assert Path(folder).resolve() == path.parent.resolve(), f"{name} is compiled from {folder}"
        for define in data.get("versionDefines", []):
            assert set(define) == {"name", "expression", "define"}, f"{path.name}: {define}"
    assert asmdefs["StyleBridge.Core"][1]["noEngineReferences"] is True
    assert asmdefs["StyleBridge.Editor"][1]["includePlatforms"] == ["Editor"]


def test_optional_code_is_compiled_with_the_defines_its_asmdef_sets() -> None:
    # The Sentis backend and the ML-Agents parts sit behind versionDefines; the check must set
    # exactly those defines, or that code would never be type-checked here.
    runtime = _asmdefs()["StyleBridge.Runtime"][1]
    version_defines = {d["define"] for d in runtime["versionDefines"]}  # type: ignore[union-attr,index]
    # The optional backends, plus the defines that only pick which installed version Hello reports
    # (InstalledPackages.cs; one branch of those is compiled, the strings are pinned by vectors).
    assert version_defines == {
        "STYLEBRIDGE_MLAGENTS",
        "STYLEBRIDGE_SENTIS",
        "STYLEBRIDGE_SENTIS_1_6",
        "STYLEBRIDGE_BARRACUDA_3_0_0",
        "STYLEBRIDGE_BARRACUDA_3_0_1",
    }
    row = {r[0]: r for r in _table("ASSEMBLIES")}["StyleBridge.Runtime"]
    assert {"STYLEBRIDGE_MLAGENTS", "STYLEBRIDGE_SENTIS"} <= set(row[3].split(";"))
    sources = "\n".join(p.read_text() for p in (PACKAGE / "Runtime/Unity").rglob("*.cs"))
    for define in version_defines:
        assert f"#if {define}" in sources or f"#if {define} " in sources or define in sources


_TYPE_DECL = re.compile(
    r"^ {4}(?:public|internal) (?:(?:sealed|static|abstract|partial|readonly|ref) )*"
    r"(?:class|struct|interface|enum) (\w+)",
    re.MULTILINE,
)


def _stub_citation_problems(stubs: Path) -> list[str]:
    """Stub files must say they are stubs, and every top-level type must cite its source."""
    problems: list[str] = []
    for path in sorted(stubs.rglob("*.cs")):
        text = path.read_text()
        rel = path.relative_to(stubs)
        if "REFERENCE STUB" not in text.split("\n", 1)[0]:
            problems.append(f"{rel}: first line must say REFERENCE STUB")
        lines = text.splitlines()
        for match in _TYPE_DECL.finditer(text):
            index = text.count("\n", 0, match.start())
            above = index - 1
            while above >= 0 and lines[above].strip().startswith("["):
                above -= 1  # attributes between the comment and the type
            comment: list[str] = []
            while above >= 0 and lines[above].strip().startswith("//"):
                comment.append(lines[above])
                above -= 1
            if not any(re.search(r"\bSources?:", line) for line in comment):
                problems.append(
                    f"{rel}: type {match.group(1)} has no `// Source:` comment above it"
                )
    return problems


def test_every_stub_type_cites_its_source() -> None:
    assert _stub_citation_problems(STUBS_DIR) == []
    folders = {p.name for p in STUBS_DIR.iterdir() if p.is_dir()}
    assert folders == {row[0] for row in _table("STUBS")}, "each stub folder is one STUBS row"
    readme = (STUBS_DIR / "README.md").read_text()
    for folder in folders:
        assert f"`{folder}/`" in readme, f"README.md does not describe the {folder} stubs"


def test_stub_citation_check_notices_a_missing_source(tmp_path: Path) -> None:
    stubs = tmp_path / "ReferenceStubs"
    shutil.copytree(STUBS_DIR, stubs)
    barracuda = stubs / "Unity.Barracuda/Barracuda.cs"
    text = barracuda.read_text()
    cut = "    // Source: Barracuda/Runtime/Core/ModelBuilder.cs"
    assert cut in text
    barracuda.write_text(text.replace(cut, "    // (cited nowhere)"))
    assert _stub_citation_problems(stubs) == [
        "Unity.Barracuda/Barracuda.cs: type ModelBuilder has no `// Source:` comment above it"
    ]


@needs_mcs
def test_a_wrong_engine_stub_signature_fails_the_package_compile(tmp_path: Path) -> None:
    # The Barracuda importer's real entry point takes the ONNX bytes; a stub that drifted to
    # another signature must break the compile of the Runtime assembly that calls it.
    root = _copy_for_compile(tmp_path)
    stub = root / "unity/ReferenceStubs/Unity.Barracuda.ONNX/ONNXModelConverter.cs"
    text = stub.read_text()
    real = "public Model Convert(byte[] buffer)"
    assert real in text
    stub.write_text(text.replace(real, "public Model Convert(string filePath)"))
    # Stop at the Runtime assembly and skip the NUnit run: only the compile matters here.
    script = root / "tools/unity_check.sh"
    lines = [
        line
        for line in script.read_text().splitlines(keepends=True)
        if not re.match(r'\s+"StyleBridge\.(Editor|Tests|Samples)', line)
    ]
    script.write_text(re.sub(r"^TESTS=\(.*\)$", "TESTS=()", "".join(lines), flags=re.MULTILINE))
    result = _unity_check(root)
    assert result.returncode != 0
    assert "StyleBridge.Runtime: mcs failed" in result.stderr
    assert "error CS1503" in result.stderr or "error CS" in result.stderr


def test_hand_written_grpc_descriptors_match_the_bridge_service() -> None:
    # There is no C# gRPC plugin here, so BridgeMethods.cs spells the service by hand: every rpc of
    # bridge.proto must appear with the same name, message types and streaming kind.
    from stylebridge.v1 import bridge_pb2

    methods = (PACKAGE / "Runtime/Client/BridgeMethods.cs").read_text()
    protocol = (PACKAGE / "Runtime/Core/BridgeProtocol.cs").read_text()
    service = bridge_pb2.DESCRIPTOR.services_by_name["Bridge"]
    assert f'ServiceName = "{service.full_name}"' in protocol
    kinds = {
        (False, False): "Unary",
        (True, True): "DuplexStreaming",
        (False, True): "ServerStreaming",
        (True, False): "ClientStreaming",
    }
    declared = re.findall(
        r"new Method<(\w+), (\w+)>\(MethodType\.(\w+), BridgeProtocol\.ServiceName, \"(\w+)\"",
        methods,
    )
    expected = [
        (
            m.input_type.name,
            m.output_type.name,
            kinds[(m.client_streaming, m.server_streaming)],
            m.name,
        )
        for m in service.methods
    ]
    assert sorted(declared) == sorted(expected)


def test_csharp_constants_match_the_python_side() -> None:
    import stylebridge
    from stylebridge.harness import protocol as harness

    bridge = (PACKAGE / "Runtime/Core/BridgeProtocol.cs").read_text()
    assert f"public const uint Version = {stylebridge.PROTOCOL_VERSION};" in bridge
    channel = (PACKAGE / "Runtime/Unity/Perf/PerfSideChannel.cs").read_text()
    assert f'new Guid("{harness.PERF_CHANNEL_ID}")' in channel


def _stub_api_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "check_stub_api", REPO / "tools/check_stub_api.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_stub_api"] = module
    spec.loader.exec_module(module)
    return module


def test_stub_api_rules_allow_less_and_never_more_or_different() -> None:
    check = _stub_api_checker()
    real = [
        "N.A :: class : System.Object ifaces=System.IDisposable,System.IEquatable<N.A>",
        "N.A :: prop System.Int32 Count get set",
        "N.A :: System.Void Dispose()",
        "N.A :: static N.A Create(System.String, System.Int32=opt)",
    ]
    fine = [
        "N.A :: class : System.Object ifaces=System.IDisposable",  # fewer interfaces
        "N.A :: prop System.Int32 Count get",  # fewer accessors
        "N.A :: System.Void Dispose()",
    ]
    assert check.problems(fine, real, "n.txt") == []
    wrong = {
        "N.A :: class : N.Base": "N.A :: class : N.Base: not in n.txt",
        "N.A :: class : System.Object ifaces=System.ICloneable": "not in n.txt",
        "N.A :: prop System.Int64 Count get": "(the real one: prop System.Int32 Count get set)",
        "N.A :: static N.A Create(System.String, System.Int32)": "not in n.txt",
        "N.A :: System.Void Close()": "N.A :: System.Void Close(): not in n.txt",
        "N.B :: class : System.Object": "N.B: no such public type in n.txt",
    }
    for line, said in wrong.items():
        found = check.problems([line], real, "n.txt")
        assert len(found) == 1 and said in found[0], (line, found)
