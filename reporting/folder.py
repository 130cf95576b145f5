"""Report folders the toolkit owns: the marker, the rule for replacing one, and the atomic swap.

A report folder written by ``ntk-verify report`` holds a marker file, :data:`MARKER`, a
small JSON naming the tool, its version and every file the report wrote. The rule:

* a missing path or an empty folder may be written;
* a folder with a valid marker, holding nothing but the files its marker lists (and the
  folders above them), is a previous report of ours and may be replaced;
* anything else (an existing file, a folder without a marker, a marked folder with extra
  files in it) is refused with :class:`ReportFolderRefused`.

Why "refuse extra files" rather than "keep them": a report is replaced as a whole, by one
rename, so that an interrupted run leaves the old report or the new one and never a mix.
Keeping a user's file would mean moving it across, which is not atomic; refusing leaves it
untouched and tells the user. The old report is then removed file by file from the marker's
list (never ``rmtree``): a file that appeared between the check and the swap is left where
it is, with its folder (:func:`remove_report` returns False and the caller says where).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

MARKER = ".ntk-verify-report"
TOOL = "ntk-verify"
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class ReportFolderRefused(ValueError):
    """The output path is not ours to replace (a user's file or folder): nothing was changed."""


def marker_payload(files: list[str]) -> dict[str, Any]:
    """The marker's content: tool, version and the report's files (POSIX paths relative to the folder)."""
    try:
        version = metadata.version(TOOL)
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"tool": TOOL, "version": version, "kind": "verification report", "files": sorted(files)}


def files_in(folder: Path) -> list[str]:
    """Every file (or link) below ``folder`` as a relative POSIX path; folders themselves are not listed."""
    out = []
    for root, dirs, names in os.walk(folder):
        rel_root = Path(root).relative_to(folder)
        links = [d for d in dirs if (Path(root) / d).is_symlink()]     # never descend through a link
        dirs[:] = [d for d in dirs if d not in links]
        out += [(rel_root / n).as_posix() for n in names + links]
    return sorted(out)


def _folders_in(folder: Path) -> set[str]:
    """Every sub-folder below ``folder`` (not following links), as relative POSIX paths."""
    return {(Path(root).relative_to(folder) / d).as_posix()
            for root, dirs, _ in os.walk(folder) for d in dirs if not (Path(root) / d).is_symlink()}


def _safe_relative(name: object) -> bool:
    """A marker entry must stay inside the folder: relative, no '..', not the marker itself."""
    if not isinstance(name, str) or not name or name == MARKER:
        return False
    p = PurePosixPath(name)
    return not p.is_absolute() and ".." not in p.parts and "\\" not in name


def _listed_files(folder: Path) -> list[str] | None:
    """The files a valid marker in ``folder`` lists, or None when there is no valid marker."""
    marker = folder / MARKER
    if marker.is_symlink() or not marker.is_file():
        return None
    try:
        data = json.loads(marker.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("tool") != TOOL:
        return None
    files = data.get("files")
    if not isinstance(files, list) or not all(_safe_relative(f) for f in files):
        return None
    return files


def _parents(files: list[str]) -> set[str]:
    return {p.as_posix() for f in files for p in PurePosixPath(f).parents if p.as_posix() != "."}


def previous_report_files(out_dir: str | Path) -> list[str] | None:
    """Vet ``out_dir`` for a report: None if it does not exist, else the files that replacing it may remove.

    Raises :class:`ReportFolderRefused` (one-line message) for an existing non-folder, a
    non-empty folder without our marker, or a marked folder holding anything its marker
    does not list. An empty folder gives ``[]``.
    """
    out = Path(out_dir)
    if not out.exists() and not out.is_symlink():
        return None
    if out.is_symlink() or not out.is_dir():
        raise ReportFolderRefused("exists and is not a folder; ntk-verify replaces only a report folder it wrote")
    present = files_in(out)
    if not present and not _folders_in(out):
        return []
    listed = _listed_files(out)
    if listed is None:
        raise ReportFolderRefused(f"folder is not empty and is not a report written by ntk-verify (no valid "
                                  f"{MARKER}); choose another --out or empty it yourself")
    extra = sorted(set(present) - set(listed) - {MARKER}) + sorted(_folders_in(out) - _parents(listed))
    if extra:
        shown = ", ".join(extra[:3]) + (f" and {len(extra) - 3} more" if len(extra) > 3 else "")
        raise ReportFolderRefused(f"this report folder also holds files ntk-verify did not write ({shown}); "
                                  "move them out or choose another --out")
    return listed


def write_marker(folder: Path) -> None:
    """Write the marker into a freshly written report folder, listing every file in it."""
    (folder / MARKER).write_text(json.dumps(marker_payload(files_in(folder)), indent=1) + "\n")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where not supported."""
    try:
        fn = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    except (OSError, TypeError):
        return False
    if fn is None:
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(b))


def swap_into_place(new: Path, out: Path) -> Path | None:
    """Put the folder ``new`` at ``out`` in one step; return where the old ``out`` now is (None if none).

    With ``renameat2(RENAME_EXCHANGE)`` the swap is one system call: ``out`` is the old
    folder, then the new one. Elsewhere it is two renames, the first undone if the second
    fails, so ``out`` is missing only between two renames of the same folder.
    """
    if not out.exists():
        os.rename(new, out)
        return None
    if _exchange(new, out):
        return new                       # one step: ``out`` was the old report, then the new one
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    os.rename(out, old)                  # two steps: undo the first if the second fails
    try:
        os.rename(new, out)
    except BaseException:
        os.rename(old, out)
        raise
    return old


def remove_report(folder: Path, files: list[str]) -> bool:
    """Remove an old report: the listed files, the marker, then the emptied folders; True if it is gone.

    Never ``rmtree``: anything not listed stays, with the folders that hold it.
    """
    for name in [*files, MARKER]:
        path = folder / name
        try:
            if path.is_symlink() or path.is_file():
                path.unlink()
        except OSError:
            pass                         # left in place; the folder then stays too
    for sub in sorted(_parents(files), key=lambda p: -len(PurePosixPath(p).parts)):
        with contextlib.suppress(OSError):       # not empty: something we did not write is in it
            (folder / sub).rmdir()
    try:
        folder.rmdir()
    except OSError:
        return False
    return True
