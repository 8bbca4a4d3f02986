"""Code.Path packaging bounds: inside the allowed roots, regular files only, symlinks kept inside the
code directory, sizes and counts bounded, system filesystems refused; every refusal one line."""

from __future__ import annotations

import os

import pytest

from deployer import codezip
from deployer.codezip import CodePathError, check_root, inspect, zip_path


@pytest.fixture
def code(tmp_path):
    src = tmp_path / "stack" / "src"
    src.mkdir(parents=True)
    (src / "main.py").write_text("print(1)\n")
    return src


def refusal(fn, *args) -> str:
    with pytest.raises(CodePathError) as e:
        fn(*args)
    message = str(e.value)
    assert "\n" not in message
    return message


def test_inside_the_stack_directory_or_an_allowed_root(code, tmp_path):
    roots = codezip.allowed_roots(str(code.parent), {})
    assert check_root(str(code), roots) == os.path.realpath(code)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "x.py").write_text("1")
    assert "outside the stack directory" in refusal(check_root, str(outside), roots)
    assert "DEPLOYER_CODE_ROOT" in refusal(check_root, str(outside), roots)
    allowed = codezip.allowed_roots(str(code.parent), {"DEPLOYER_CODE_ROOT": str(outside)})
    assert check_root(str(outside), allowed) == os.path.realpath(outside)
    link = code.parent / "link"
    link.symlink_to(outside)
    assert "(resolves to" in refusal(check_root, str(link), roots)


@pytest.mark.parametrize("path", ["/proc/self", "/proc/self/environ", "/sys/kernel", "/dev/zero"])
def test_system_filesystems_are_refused_even_when_allowed(path):
    assert "is a system filesystem, not code" in refusal(check_root, path, ["/"])
    assert "is a system filesystem" in refusal(zip_path, path)


def test_symlinks_must_stay_inside_the_code_directory(code, tmp_path):
    (tmp_path / "secret").write_text("key")
    (code / "creds").symlink_to(tmp_path / "secret")
    assert "creds is a symlink to" in refusal(inspect, str(code)) and "outside the code directory" in refusal(
        inspect, str(code))
    os.unlink(code / "creds")
    (code / "alias.py").symlink_to(code / "main.py")  # inside: packaged as a file
    (code / "dir").symlink_to(tmp_path, target_is_directory=True)  # a directory link is not followed
    assert [name for name, _, _ in inspect(str(code))] == ["alias.py", "main.py"]


def test_special_files_are_refused_without_blocking(code):
    os.mkfifo(code / "pipe")
    assert "pipe is not a regular file" in refusal(zip_path, str(code))


def test_sizes_and_counts_are_bounded_before_reading(code, monkeypatch):
    with open(code / "huge.bin", "wb") as fh:
        fh.truncate(3 * 1024 ** 3)  # sparse: 3 GB of nothing, refused from its size alone
    assert "Lambda takes at most 262144000 bytes unzipped" in refusal(zip_path, str(code))
    os.unlink(code / "huge.bin")
    monkeypatch.setattr(codezip, "MAX_CODE_FILES", 3)
    for i in range(4):
        (code / f"f{i}.py").write_text("1")
    assert "more than 3 files" in refusal(inspect, str(code))
    monkeypatch.setattr(codezip, "MAX_CODE_FILES", 100)
    monkeypatch.setattr(codezip, "MAX_ZIP_BYTES", 100)
    (code / "random.bin").write_bytes(os.urandom(4096))
    assert "the zip is larger than 100 bytes" in refusal(zip_path, str(code))


def test_a_file_that_changes_after_the_check_is_refused(code, monkeypatch):
    entries = inspect(str(code))
    (code / "main.py").write_text("print('longer now')\n")
    assert "changed while it was being packaged" in refusal(codezip._zip_entries, str(code), entries)


def test_missing_and_empty(tmp_path):
    assert refusal(zip_path, str(tmp_path / "nope")) == f"Code.Path '{tmp_path / 'nope'}': no such file or directory"
    assert "the directory holds no files" in refusal(zip_path, str(tmp_path))
