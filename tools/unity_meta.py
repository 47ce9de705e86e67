"""Write (or check) the Unity `.meta` files of hand-written assets in the Unity package.

Why: Unity ignores an asset without a `.meta` beside it in an immutable (git URL) package,
and a `.meta` made by the editor gets a random GUID, so two checkouts would disagree. This
tool gives every file and folder the GUID `tools/gen_csharp.py` gives generated ones: the
md5 of its path inside the package, so the same path always gets the same GUID.

Usage:
    python tools/unity_meta.py unity/Assets/StyleTransfer/Runtime/Core          # write
    python tools/unity_meta.py --check unity/Assets/StyleTransfer/Runtime/Core  # exit 1 on drift
    python tools/unity_meta.py --shallow unity/Assets/StyleTransfer/Runtime     # the folder only

Each PATH (a file or folder inside the package, the folder holding package.json) gets its
own `.meta` and, for a folder, every file and sub-folder below it, except hidden names and
folders ending in `~` (Unity skips those, e.g. `Samples~`). `--check` also reports `.meta`
files whose asset is gone. Exit status: 0 ok, 1 drift found (check), 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

TOOLS = Path(__file__).resolve().parent


def _gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_csharp", TOOLS / "gen_csharp.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_csharp", module)
    spec.loader.exec_module(module)
    return module


gen = _gen()
_TAIL = "  userData: \n  assetBundleName: \n  assetBundleVariant: \n"
TEXT_IMPORTER = "TextScriptImporter:\n  externalObjects: {}\n" + _TAIL
DEFAULT_IMPORTER = "DefaultImporter:\n  externalObjects: {}\n" + _TAIL
PACKAGE_IMPORTER = "PackageManifestImporter:\n  externalObjects: {}\n" + _TAIL
_TEXT_SUFFIXES = frozenset({".md", ".txt", ".json", ".xml", ".yaml", ".yml", ".csv"})


class MetaError(Exception):
    """The path is not inside the package; the message says what to pass."""


def package_root(path: Path) -> Path:
    """The nearest folder at or above ``path`` that holds package.json."""
    for folder in [path, *path.parents]:
        if (folder / "package.json").is_file():
            return folder
    raise MetaError(f"{path} is not inside a Unity package (no package.json above it)")


def importer_for(path: Path) -> str:
    """The importer section Unity writes for this kind of asset."""
    if path.is_dir():
        return gen.FOLDER_IMPORTER
    if path.name == "package.json":
        return PACKAGE_IMPORTER
    if path.suffix == ".cs":
        return gen.MONO_IMPORTER
    if path.suffix == ".asmdef":
        return gen.ASMDEF_IMPORTER
    if path.suffix in _TEXT_SUFFIXES:
        return TEXT_IMPORTER
    return DEFAULT_IMPORTER


def _skipped(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return any(p.startswith(".") or p.endswith("~") for p in parts)


def assets(path: Path, root: Path, *, recurse: bool = True) -> list[Path]:
    """``path`` and, for a folder, everything below it that Unity imports (no .meta files)."""
    found = [path] if path != root else []
    if recurse and path.is_dir():
        found += sorted(p for p in path.rglob("*") if p.suffix != ".meta")
    return [p for p in found if not _skipped(p, root)]


def expected_metas(path: Path, *, recurse: bool = True) -> dict[Path, str]:
    """{meta path: text} for every asset at or below ``path``."""
    path = path.resolve()
    if not path.exists():
        raise MetaError(f"{path} does not exist")
    root = package_root(path)
    return {
        asset.with_name(asset.name + ".meta"): gen.meta_text(
            asset.relative_to(root).as_posix(), importer_for(asset)
        )
        for asset in assets(path, root, recurse=recurse)
    }


def orphans(path: Path) -> list[Path]:
    """.meta files below ``path`` whose asset does not exist."""
    path = path.resolve()
    if not path.is_dir():
        return []
    return sorted(m for m in path.rglob("*.meta") if not m.with_suffix("").exists())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="files or folders inside the package")
    parser.add_argument("--check", action="store_true", help="report drift, write nothing")
    parser.add_argument(
        "--shallow",
        action="store_true",
        help="only the paths themselves (e.g. a folder shared with other owners)",
    )
    args = parser.parse_args(argv)
    problems: list[str] = []
    written = 0
    try:
        for path in args.paths:
            for meta, text in expected_metas(path, recurse=not args.shallow).items():
                current = meta.read_text(encoding="utf-8") if meta.is_file() else None
                if current == text:
                    continue
                if args.check:
                    problems.append(f"{'missing' if current is None else 'wrong'}: {meta}")
                else:
                    meta.write_text(text, encoding="utf-8", newline="\n")
                    written += 1
            if not args.shallow:
                problems += [f"orphan: {m} (its asset is gone; delete it)" for m in orphans(path)]
    except MetaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in problems:
        print(line, file=sys.stderr)
    if args.check:
        if problems:
            print("run python tools/unity_meta.py on these paths", file=sys.stderr)
        return 1 if problems else 0
    print(f"wrote {written} .meta files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
