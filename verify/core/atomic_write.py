"""The one atomic writer: a temporary file in the same folder, then a rename over the target.

An interrupted write never leaves a half-written file. Callers decide *which* paths may be
written (the CLI vets ``--out`` paths in :mod:`verify.cli.output`; the bound cache writes only
its own key-named files in its own folder); this module only writes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        usual_mode(fd)
        with os.fdopen(fd, mode) as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def usual_mode(fd: int) -> None:
    """mkstemp makes files 0600; give the file the mode a plain ``open`` would (0666 minus the umask)."""
    mask = os.umask(0o022)
    os.umask(mask)
    os.fchmod(fd, 0o666 & ~mask)
