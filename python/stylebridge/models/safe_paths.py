"""Names that become paths inside one folder, and nowhere else.

Every name that arrives from outside (a client's model id, an external-data location
inside an ONNX file, a catalog file that may be a symlink) goes through
``resolve_inside`` before anything is opened: the name must be relative, free of
``..``, NUL and backslashes, and its target (symlinks followed) must stay inside the
folder. A model id is a file stem and never a path, so ``check_model_id`` refuses
anything that could be read as one. Both raise InvalidInputError (INVALID_ARGUMENT
on the wire) with a message that says what was wrong; neither touches the file.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from stylebridge.errors import InvalidInputError

# Longest relative name taken (PATH_MAX on Linux); one component may be at most 255.
MAX_NAME_CHARS = 4096
MAX_COMPONENT_CHARS = 255
MAX_MODEL_ID_CHARS = 200


def resolve_inside(folder: Path, name: str, *, what: str = "file") -> Path:
    """``folder / name`` with symlinks resolved; InvalidInputError when it would leave
    ``folder`` (absolute, ``..``, NUL, backslash, too long, a symlink pointing out).

    Pure path arithmetic plus ``Path.resolve`` (which reads links, never file contents).
    """
    root = Path(folder).resolve()
    _check_relative_name(name, what)
    try:
        target = (root / name).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # loops, names the OS refuses
        raise InvalidInputError(
            f"{what} {_show(name)} cannot be resolved in {root}: {exc}"
        ) from exc
    if target == root or not target.is_relative_to(root):
        raise InvalidInputError(
            f"{what} {_show(name)} resolves to {target}, outside {root}; names must stay "
            "inside the folder (no '..', no absolute paths, no symlinks pointing out)"
        )
    return target


def check_model_id(model_id: str) -> str:
    """``model_id`` when it can be a model id (a file stem); InvalidInputError when not."""
    if not isinstance(model_id, str) or not model_id:
        raise InvalidInputError("the model id is empty; name a model from `stylebridge models`")
    bad = _bad_characters(model_id)
    if bad or "/" in model_id or model_id in (".", "..") or len(model_id) > MAX_MODEL_ID_CHARS:
        why = bad or (
            "a path separator" if "/" in model_id
            else "too long" if len(model_id) > MAX_MODEL_ID_CHARS
            else "a path"
        )  # fmt: skip
        raise InvalidInputError(
            f"model id {_show(model_id)} is not a model id ({why}); a model id is the file "
            "stem of an .onnx file in the catalog, e.g. 'mosaic-int8w'"
        )
    return model_id


def _check_relative_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"{what} name is empty")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInputError(f"{what} name is {len(name)} characters, over {MAX_NAME_CHARS}")
    bad = _bad_characters(name)
    if bad:
        raise InvalidInputError(f"{what} {_show(name)} contains {bad}")
    pure = PurePosixPath(name)
    if pure.is_absolute() or Path(name).is_absolute() or (len(name) > 1 and name[1] == ":"):
        raise InvalidInputError(f"{what} {_show(name)} is an absolute path; give a relative name")
    if ".." in pure.parts:
        raise InvalidInputError(f"{what} {_show(name)} contains '..'; it must stay in its folder")
    if any(len(part) > MAX_COMPONENT_CHARS for part in pure.parts):
        raise InvalidInputError(
            f"{what} {_show(name)} has a component over {MAX_COMPONENT_CHARS} characters"
        )


def _bad_characters(name: str) -> str:
    if "\0" in name:
        return "a NUL byte"
    if "\\" in name:
        return "a backslash (use '/' or a plain name)"
    if any(ord(c) < 32 for c in name):
        return "a control character"
    return ""


def _show(name: str) -> str:
    """``name`` for a message: quoted, control characters escaped, long ones cut."""
    text = repr(name)
    return text if len(text) <= 80 else f"{text[:60]}…({len(name)} characters)"
