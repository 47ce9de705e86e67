"""Fail when a reference stub declares API that the real assembly lacks.

The stubs in unity/ReferenceStubs are what `make unity-check` compiles the Unity package against.
A stub member that the real assembly does not have lets code compile here that fails in Unity
(issue 14: `Channel : ChannelBase`, `RpcException.StatusCode` and `IBufferMessage` all did). This
script reads the public API of each compiled stub by reflection (tools/ApiDump.cs, run with Mono)
and checks every line against the listing of the real assembly in ``../shared/unity-api``.

A stub may declare less than the real assembly, never more or different:
- a type must have the real kind and base class, and a subset of the real interfaces;
- a property may omit a real accessor, never add one;
- every other member (constructor, method, field, event) must match a listing line exactly
  (return and parameter types, `static`, optional parameters, `ref`/`out`).

Usage: check_stub_api.py [--work DIR] STUB.dll=LISTING.txt [...]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
DUMPER_SOURCE = TOOLS / "ApiDump.cs"
TYPE_KINDS = ("class", "interface", "struct", "enum")


class CheckError(Exception):
    """The check could not run (missing Mono, unreadable listing): not a verdict on the stubs."""


def _split(line: str) -> tuple[str, str]:
    owner, sep, member = line.partition(" :: ")
    if not sep:
        raise CheckError(f"not a listing line (no ' :: '): {line!r}")
    return owner, member


def _type_parts(member: str) -> tuple[str, set[str]]:
    """`class : Base ifaces=A,B` -> ("class : Base", {"A", "B"})."""
    head, _, ifaces = member.partition(" ifaces=")
    return head, _split_top_level(ifaces) if ifaces else set()


def _split_top_level(text: str) -> set[str]:
    """Split on commas outside `<...>` (interface names carry generic arguments)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return {p for p in parts if p}


def _prop_parts(member: str) -> tuple[str, set[str]]:
    """`prop T Name get set` -> ("prop T Name", {"get", "set"})."""
    words = member.split(" ")
    accessors = set()
    while words and words[-1] in ("get", "set"):
        accessors.add(words.pop())
    return " ".join(words), accessors


def problems(
    stub_lines: Iterable[str], listing_lines: Iterable[str], listing_name: str
) -> list[str]:
    """Every stub line that is not backed by the listing, with the real lines of that name."""
    real: dict[str, list[str]] = {}
    for line in listing_lines:
        if line.strip():
            owner, member = _split(line.rstrip("\n"))
            real.setdefault(owner, []).append(member)
    found: list[str] = []
    for line in stub_lines:
        if not line.strip():
            continue
        owner, member = _split(line.rstrip("\n"))
        if owner not in real:
            found.append(f"{owner}: no such public type in {listing_name}")
            continue
        if _backed(member, real[owner]):
            continue
        hint = _similar(member, real[owner])
        found.append(
            f"{owner} :: {member}: not in {listing_name}"
            + (f" (the real one: {'; '.join(hint)})" if hint else "")
        )
    return found


def _backed(member: str, real_members: list[str]) -> bool:
    if member.startswith(TYPE_KINDS):
        head, ifaces = _type_parts(member)
        for candidate in real_members:
            if candidate.startswith(TYPE_KINDS):
                real_head, real_ifaces = _type_parts(candidate)
                return head == real_head and ifaces <= real_ifaces
        return False
    if member.startswith("prop "):
        head, accessors = _prop_parts(member)
        for candidate in real_members:
            if candidate.startswith("prop "):
                real_head, real_accessors = _prop_parts(candidate)
                if head == real_head and accessors <= real_accessors:
                    return True
        return False
    return member in real_members


def _name_of(member: str) -> str:
    if member.startswith(TYPE_KINDS):
        return "<type>"
    if member.startswith("prop "):
        member = _prop_parts(member)[0]
    head = member.split("(", 1)[0].split("=", 1)[0]
    return head.split(" ")[-1].split("[", 1)[0]


def _similar(member: str, real_members: list[str]) -> list[str]:
    name = _name_of(member)
    return [m for m in real_members if _name_of(m) == name][:3]


def build_dumper(work: Path) -> Path:
    """Compile ApiDump.cs with mcs (once per work folder)."""
    exe = work / "ApiDump.exe"
    if exe.is_file() and exe.stat().st_mtime >= DUMPER_SOURCE.stat().st_mtime:
        return exe
    if shutil.which("mcs") is None or shutil.which("mono") is None:
        raise CheckError("Mono's mcs and mono are needed (Debian: mono-mcs, mono-runtime)")
    work.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            "mcs",
            "-noconfig",
            "-r:System.dll",
            "-r:System.Core.dll",
            f"-out:{exe}",
            str(DUMPER_SOURCE),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise CheckError(f"could not compile {DUMPER_SOURCE.name}:\n{result.stdout}{result.stderr}")
    return exe


def dump(dumper: Path, dll: Path, work: Path) -> list[str]:
    """The public API of one assembly, by reflection, in the listing format."""
    out = work / f"{dll.stem}.api.txt"
    result = subprocess.run(
        ["mono", str(dumper), str(out), str(dll)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise CheckError(f"ApiDump failed on {dll}:\n{result.stdout}{result.stderr}")
    return out.read_text(encoding="utf-8").splitlines()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("pairs", nargs="+", metavar="STUB.dll=LISTING.txt")
    parser.add_argument("--work", type=Path, default=Path("build/unity-stub-api"))
    args = parser.parse_args(argv)
    try:
        dumper = build_dumper(args.work)
        failed = 0
        for pair in args.pairs:
            dll_text, sep, listing_text = pair.partition("=")
            if not sep:
                raise CheckError(f"expected STUB.dll=LISTING.txt, got {pair!r}")
            dll, listing = Path(dll_text), Path(listing_text)
            if not listing.is_file():
                raise CheckError(
                    f"listing {listing} not found (../shared/unity-api beside the checkout, "
                    "or STYLEBRIDGE_UNITY_API)"
                )
            lines = dump(dumper, dll, args.work)
            found = problems(lines, listing.read_text(encoding="utf-8").splitlines(), listing.name)
            for problem in found:
                print(f"check-stub-api: {dll.stem}: {problem}", file=sys.stderr)
            if found:
                failed += 1
            else:
                print(f"  {dll.stem:<28} {len(lines):4d} API lines, all in {listing.name}")
        if failed:
            print(
                f"check-stub-api: {failed} stub assembly(ies) declare API the real assembly "
                "lacks; fix the stub (or the code that needs it)",
                file=sys.stderr,
            )
            return 1
        return 0
    except CheckError as error:
        print(f"check-stub-api: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
