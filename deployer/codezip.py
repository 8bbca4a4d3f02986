"""Reproducible deployment packages: the same sources always give the same zip bytes.

Lambda reports a function's code as the base64 SHA-256 of its zip (CodeSha256), so a plan can
tell whether the code changed only if zipping unchanged sources yields identical bytes. Entries
are therefore sorted by name, stamped 1980-01-01 00:00:00 (the zip epoch), marked as made on
Unix, and given fixed permissions: 0o755 when the source file is executable by its owner (a
custom runtime's `bootstrap` must be), 0o644 otherwise. File mtimes, umask, directory walk order
and the host OS do not reach the archive. Compression is deflate at a fixed level; identical
output across machines assumes the same zlib (true of CPython's bundled builds in practice).

A spec names the path, so what it may name is bounded (a reviewed pull request must not be able to
zip /etc or the CI runner's credentials into a function): the loader keeps a Code.Path inside the
stack's directory or an operator's DEPLOYER_CODE_ROOT (`check_root`); here only regular files are
read (a FIFO, device or socket is refused, never opened for a blocking read), a symlink must point
inside the code directory itself (symlinked directories are not followed), /proc, /sys and /dev are
refused, and the sources (MAX_CODE_BYTES, Lambda's unzipped limit), their count and the zip
(MAX_ZIP_BYTES, CreateFunction's limit) are bounded before anything large is read. Every refusal is
one CodePathError line.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import stat
import zipfile
from collections.abc import Mapping

from deployer.errors import DeployerError

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
COMPRESS_LEVEL = 6
UNIX = 3
MAX_CODE_BYTES = 250 * 1024 * 1024  # Lambda's limit for a function's unzipped code
MAX_ZIP_BYTES = 50 * 1024 * 1024  # CreateFunction's limit for a zip given directly
MAX_CODE_FILES = 20_000
SPECIAL_ROOTS = ("/proc", "/sys", "/dev")
CODE_ROOT_ENV = "DEPLOYER_CODE_ROOT"


class CodePathError(DeployerError):
    """A Code.Path that cannot or may not be packaged; the message is one line."""


def allowed_roots(stack_dir: str, environ: Mapping[str, str] | None = None) -> list[str]:
    """Where a Code.Path may point: the stack's directory, and each directory of DEPLOYER_CODE_ROOT
    (os.pathsep-separated), set by the operator, never by a spec."""
    environ = os.environ if environ is None else environ
    extra = [p for p in (environ.get(CODE_ROOT_ENV) or "").split(os.pathsep) if p]
    return [os.path.realpath(p) for p in (stack_dir, *extra)]


def check_root(path: str, roots: list[str]) -> str:
    """The real path of a Code.Path, if it is inside one of roots (symlinks resolved first); raises
    CodePathError otherwise, or when it is missing or special."""
    real = os.path.realpath(path)
    _refuse_special(path, real)
    if not any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots):
        shown = f"'{path}'" + (f" (resolves to {real})" if real != os.path.abspath(path) else "")
        raise CodePathError(f"Code.Path {shown} is outside the stack directory {roots[0]}: keep code inside it, "
                            f"or let the operator allow a directory with {CODE_ROOT_ENV}=DIR")
    inspect(path)
    return real


def inspect(path: str) -> list[tuple[str, str, int]]:
    """The files zip_path would package, as (name in the zip, real path, size), all checked: regular
    files only, symlinks kept inside the code directory, bounded count and size."""
    real = os.path.realpath(path)
    _refuse_special(path, real)
    try:
        top = os.stat(real)
    except OSError:
        where = "" if os.path.isabs(path) else f" (a relative path is resolved against the current directory, " \
                                               f"{os.getcwd()})"
        raise CodePathError(f"Code.Path '{path}': no such file or directory{where}") from None
    if stat.S_ISREG(top.st_mode):
        entries = [(os.path.basename(path.rstrip(os.sep)) or os.path.basename(real), real, top.st_size)]
    elif stat.S_ISDIR(top.st_mode):
        entries = _walk(path, real)
    else:
        raise CodePathError(f"Code.Path '{path}': not a regular file or a directory")
    if not entries:
        raise CodePathError(f"Code.Path '{path}': the directory holds no files to deploy")
    total = sum(size for _, _, size in entries)
    if total > MAX_CODE_BYTES:
        raise CodePathError(f"Code.Path '{path}': {total} bytes of code; Lambda takes at most {MAX_CODE_BYTES} "
                            "bytes unzipped")
    return entries


def zip_path(path: str) -> bytes:
    """Zip a directory (its files, by path relative to it) or a single file (under its own name).

    A relative path is resolved against the current working directory."""
    return _zip_entries(path, inspect(path))


def _refuse_special(path: str, real: str) -> None:
    for special in SPECIAL_ROOTS:
        if real == special or real.startswith(special + os.sep):
            raise CodePathError(f"Code.Path '{path}': {special} is a system filesystem, not code")


def _walk(path: str, root: str) -> list[tuple[str, str, int]]:
    """Every file below root, checked; a symlink to a directory is not followed."""
    found: list[tuple[str, str, int]] = []
    errors: list[OSError] = []
    for dirpath, dirs, files in os.walk(root, onerror=errors.append):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            found.append((rel, *_checked_file(path, root, full, rel)))
            if len(found) > MAX_CODE_FILES:
                raise CodePathError(f"Code.Path '{path}': more than {MAX_CODE_FILES} files")
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(dirpath, d))]
    if errors:
        raise CodePathError(f"Code.Path '{path}': cannot read {errors[0].filename}: {errors[0].strerror}")
    return found


def _checked_file(path: str, root: str, full: str, rel: str) -> tuple[str, int]:
    try:
        info = os.lstat(full)
        target = full
        if stat.S_ISLNK(info.st_mode):
            target = os.path.realpath(full)
            if not target.startswith(root.rstrip(os.sep) + os.sep):
                raise CodePathError(f"Code.Path '{path}': {rel} is a symlink to {target}, outside the code "
                                    "directory")
            info = os.stat(target)
    except OSError as exc:
        raise CodePathError(f"Code.Path '{path}': cannot read {rel}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise CodePathError(f"Code.Path '{path}': {rel} is not a regular file")
    return target, info.st_size


def _read_bounded(path: str, rel: str, source: str, size: int) -> bytes:
    """A file's bytes, opened without following a symlink or blocking on a FIFO swapped in since it
    was checked, and refused if it is no longer the regular file of that size."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(source, flags)
    except OSError as exc:
        raise CodePathError(f"Code.Path '{path}': cannot read {rel}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size != size:
            raise CodePathError(f"Code.Path '{path}': {rel} changed while it was being packaged")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(size + 1)
    except OSError as exc:
        raise CodePathError(f"Code.Path '{path}': cannot read {rel}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) != size:
        raise CodePathError(f"Code.Path '{path}': {rel} changed while it was being packaged")
    return data


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


def _zip_entries(path: str, entries: list[tuple[str, str, int]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, source, size in sorted(entries, key=lambda e: e[0]):
            data = _read_bounded(path, name, source, size)
            zf.writestr(_entry_info(name, _mode_of(source)), data, compresslevel=COMPRESS_LEVEL)
            if buf.tell() > MAX_ZIP_BYTES:
                raise CodePathError(f"Code.Path '{path}': the zip is larger than {MAX_ZIP_BYTES} bytes, "
                                    "Lambda's limit for code given directly; upload it to S3 (Code.S3Bucket, "
                                    "Code.S3Key)")
    return buf.getvalue()


def _mode_of(source: str) -> int:
    return 0o755 if os.stat(source).st_mode & stat.S_IXUSR else 0o644


def _entry_info(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = UNIX
    info.external_attr = (stat.S_IFREG | mode) << 16
    return info
