"""Atomic file writes: a reader sees the old file or the new one, never a half-written mix.

The one place that writes output files: run folders, reports, LLM caches, checkpoints, datasets, pictures.
A file is written under a temporary name in the target's own folder (so the final rename is atomic) and
moved into place only once it is complete; on any error the temporary file is removed and the old file,
if any, stays. Files get the usual permissions (0666 less the umask), as `open` would give them.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; when the block ends without an error, the file written there
    replaces `path`. For writers that take a path (h5py, torch.save, matplotlib, PIL)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        if tmp.exists():
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: str | os.PathLike, data: str | bytes) -> None:
    """Replace `path` by `data` (text is written as UTF-8) in one step."""
    with atomic_path(path) as tmp, open(tmp, "xb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


__all__ = ["atomic_path", "write_atomic"]
