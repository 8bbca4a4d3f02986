"""Reproducible deployment packages: the same sources always give the same zip bytes.

Lambda reports a function's code as the base64 SHA-256 of its zip (CodeSha256), so a plan can
tell whether the code changed only if zipping unchanged sources yields identical bytes. Entries
are therefore sorted by name, stamped 1980-01-01 00:00:00 (the zip epoch), marked as made on
Unix, and given fixed permissions: 0o755 when the source file is executable by its owner (a
custom runtime's `bootstrap` must be), 0o644 otherwise. File mtimes, umask, directory walk order
and the host OS do not reach the archive. Compression is deflate at a fixed level; identical
output across machines assumes the same zlib (true of CPython's bundled builds in practice).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import stat
import zipfile
from pathlib import Path

from deployer.errors import DeployerError

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
COMPRESS_LEVEL = 6
UNIX = 3


def zip_path(path: str) -> bytes:
    """Zip a directory (its files, by path relative to it) or a single file (under its own name).

    A relative path is resolved against the current working directory."""
    root = Path(path)
    if root.is_file():
        return _zip_entries([(root.name, root)])
    if not root.is_dir():
        raise DeployerError(f"Code.Path '{path}': no such file or directory (relative paths are resolved "
                            f"against the current directory, {os.getcwd()})")
    entries = [(p.relative_to(root).as_posix(), p) for p in _files_under(root)]
    if not entries:
        raise DeployerError(f"Code.Path '{path}': the directory holds no files to deploy")
    return _zip_entries(entries)


def zip_inline(text: str, runtime: str | None) -> bytes:
    """CloudFormation's ZipFile: one file, index.py for Python runtimes and index.js otherwise."""
    name = "index.py" if (runtime or "").startswith("python") else "index.js"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(_entry_info(name, 0o644), text.encode("utf-8"), compresslevel=COMPRESS_LEVEL)
    return buf.getvalue()


def sha256_b64(data: bytes) -> str:
    """The digest Lambda reports as CodeSha256: base64 of the raw SHA-256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _files_under(root: Path) -> list[Path]:
    """Regular files (and symlinks to files) below root; symlinked directories are not followed."""
    found: list[Path] = []
    for dirpath, _dirs, files in os.walk(root):
        found += [Path(dirpath, f) for f in files if Path(dirpath, f).is_file()]
    return found


def _zip_entries(entries: list[tuple[str, Path]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, source in sorted(entries, key=lambda e: e[0]):
            info = _entry_info(name, _mode_of(source))
            zf.writestr(info, source.read_bytes(), compresslevel=COMPRESS_LEVEL)
    return buf.getvalue()


def _mode_of(source: Path) -> int:
    return 0o755 if source.stat().st_mode & stat.S_IXUSR else 0o644


def _entry_info(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = UNIX
    info.external_attr = (stat.S_IFREG | mode) << 16
    return info
