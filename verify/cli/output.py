"""Output paths: vetted before any work, written atomically, never over what the user owns.

:func:`check_output_path` runs at the start of every command that writes, so a bad
``--out`` costs a second, not the minutes of the computation, and leaves nothing behind.
An interrupted write never leaves a half-written file (:func:`write_atomic`).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, BinaryIO, Literal

from verify.core.atomic_write import usual_mode, write_atomic
from verify.core.errors import InputError

OutputKind = Literal["folder", "report-folder", "new-file"]


OUTPUTS_MARKER = ".ntk-verify-outputs"   # in a --out folder: the files ntk-verify wrote there


def check_own_files(folder: Path, names: Sequence[str], option: str = "--out") -> None:
    """Before any work: refuse a folder where a file we would write exists and was not written by us.

    Files we wrote are listed in the folder's :data:`OUTPUTS_MARKER` (see :func:`record_own_files`),
    so a second run may replace its own results, never a user's file of the same name.
    """
    ours = _own_files(folder)
    clash = sorted(n for n in names if (folder / n).exists() and n not in ours)
    if (folder / OUTPUTS_MARKER).exists() and not _is_marker(folder):
        clash.append(OUTPUTS_MARKER)          # a file of that name that is not our list: never replaced
    if clash:
        raise InputError(f"{option} {folder}: {', '.join(clash)} already there and not written by ntk-verify; "
                         "refusing to overwrite (choose another --out)")


def record_own_files(folder: Path, names: Sequence[str]) -> None:
    """Add ``names`` to the folder's list of files written by ntk-verify."""
    files = sorted(_own_files(folder) | set(names))
    write_atomic(folder / OUTPUTS_MARKER, json.dumps({"tool": "ntk-verify", "files": files}, indent=1) + "\n")


def _is_marker(folder: Path) -> bool:
    try:
        data = json.loads((folder / OUTPUTS_MARKER).read_text())
        return isinstance(data, dict) and data.get("tool") == "ntk-verify" and isinstance(data.get("files"), list)
    except (OSError, ValueError):
        return False


def _own_files(folder: Path) -> set[str]:
    try:
        data = json.loads((folder / OUTPUTS_MARKER).read_text())
        return {str(f) for f in data["files"]} if data.get("tool") == "ntk-verify" else set()
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return set()


def write_json(path: str | Path, payload: Any) -> Path:
    return write_atomic(path, json.dumps(payload, indent=2) + "\n")


def write_new_file(path: str | Path, data: bytes | Callable[[BinaryIO], None]) -> Path:
    """Write ``data`` to a file that must not exist: a temporary file, then a hard link (which
    fails rather than replace a file that appeared meanwhile), so a reader never sees half a file.

    ``data`` is the bytes, or a function that writes them to the open file (no copy in memory)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        usual_mode(fd)
        with os.fdopen(fd, "wb") as fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise InputError(f"--out {path}: appeared while computing; left untouched") from None
    finally:
        os.unlink(tmp)
    return path


def check_output_path(path: str | Path, kind: OutputKind = "folder", option: str = "--out") -> Path:
    """Vet an output path before any work; return it resolved (absolute), or raise :class:`InputError`.

    ``kind="folder"``: a folder the command writes named files into (created if missing).
    ``kind="report-folder"``: a folder replaced as a whole by ``report``; besides the
    folder checks it must be missing, empty or a previous report of ours
    (:func:`reporting.folder.previous_report_files`). Either way the path must not be an
    existing file, the nearest existing folder above it must be a folder we can write in
    (a temporary file is created and removed there), and nothing else is created.
    ``kind="new-file"``: a file that must not exist yet (nothing is ever overwritten).
    """
    text = str(path)
    if not text.strip():
        raise InputError(f"{option}: empty path")
    try:
        target = Path(text).expanduser().resolve()
        if target.parent == target:
            raise InputError(f"{option} {text}: refusing to write to the root folder")
        if kind == "new-file" and target.exists():
            raise InputError(f"{option} {text}: exists; refusing to overwrite it (choose a new file name)")
        if target.exists() and not target.is_dir():
            raise InputError(f"{option} {text}: exists and is not a folder; refusing to replace it")
        where = _nearest_existing(target if kind == "folder" else target.parent)
        if not where.is_dir():
            raise InputError(f"{option} {text}: {where} is a file, so nothing can be created below it")
        _probe_writable(where, text, option)
        if kind == "report-folder":
            _check_report_folder(target, text, option)
    except (OSError, ValueError) as exc:      # NUL bytes, names too long, loops, permissions
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{option} {text}: unusable path ({_reason(exc)})") from None
    return target


def _nearest_existing(path: Path) -> Path:
    """The path itself or its closest existing ancestor."""
    while not path.exists():
        path = path.parent
    return path


def _probe_writable(folder: Path, text: str, option: str) -> None:
    """Create and remove a temporary file in ``folder``: the only sure test that we can write there."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".ntk-verify-probe-")
    except OSError as exc:
        raise InputError(f"{option} {text}: cannot write in {folder} ({_reason(exc)})") from None
    os.close(fd)
    os.unlink(probe)


def _check_report_folder(target: Path, text: str, option: str) -> None:
    from reporting.folder import ReportFolderRefused, previous_report_files

    try:
        previous = previous_report_files(target)
    except ReportFolderRefused as exc:
        raise InputError(f"{option} {text}: {exc}") from None
    if previous is not None:                  # the old report's files are removed after the swap
        _probe_writable(target, text, option)


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc).splitlines()[0][:200]


class ExitAfterOutput(Exception):
    """Raised by a command whose output is complete but whose run failed: ``main`` prints the
    payload, then ``message`` as one error line on stderr, and exits with ``code``."""

    def __init__(self, payload: Any, message: str, code: int) -> None:
        super().__init__(message)
        self.payload, self.message, self.code = payload, message, code


def render_payload(payload: Any, args: argparse.Namespace) -> str:
    """The payload as the command prints it: JSON, or the command's table with ``--format table``."""
    render = getattr(args, "render", None)
    if getattr(args, "format", "json") == "json" or render is None:
        return json.dumps(payload, indent=2)
    return render(payload, args)
