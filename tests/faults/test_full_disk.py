"""The state directory's disk fills up after the k-th state write of an apply, for every k: the apply
exits 1 with one message that is true — when it says it rolled back (or that there was nothing to
roll back), the account is as before — and once space is free the next apply converges with
nothing orphaned or created twice."""

from __future__ import annotations

import errno
import os

import pytest

from tests.faults.inventory import differences, inventory
from tests.integration.harness import Project

SPEC = {  # an unnamed key (the hard case), a queue named after it, a bucket
    "Key": {"type": "AWS::KMS::Key", "properties": {"Description": "full disk"}},
    "Jobs": {"type": "AWS::SQS::Queue", "properties": {"QueueName": "full-disk-jobs",
                                                      "Tags": [{"Key": "key", "Value": "${Key}"}]}},
    "Files": {"type": "AWS::S3::Bucket", "properties": {"BucketName": "full-disk-files"}},
}
WRITES = 7  # an apply of SPEC writes the state at most this often (3 journal entries, 3 results, the outputs)


def fill_disk_after(monkeypatch, state_dir, writes: int) -> None:
    """fsync of a state file in state_dir fails with ENOSPC after `writes` successful ones."""
    real = os.fsync
    count = {"n": 0}

    def fsync(fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        if path.startswith(str(state_dir)) and not path.endswith(".lock"):
            count["n"] += 1
            if count["n"] > writes:
                raise OSError(errno.ENOSPC, "No space left on device")
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)


@pytest.mark.parametrize("writes", range(WRITES))
def test_a_full_disk_mid_apply_is_reported_truly_and_recovered(tmp_path, aws_endpoint, monkeypatch, writes):
    project = Project(tmp_path)
    project.write(SPEC)
    before = inventory(aws_endpoint)
    with monkeypatch.context() as m:
        fill_disk_after(m, project.state_dir, writes)
        res = project.run("apply", str(project.spec_dir), "--auto-approve")
    assert "Traceback" not in res.err
    if res.code == 0:  # the apply needed fewer durable writes than this (group commit): nothing failed
        project.assert_clean()
        return
    assert res.code == 1 and "No space left on device" in res.err
    now = inventory(aws_endpoint)
    if "nothing to roll back" in res.err or "rolled back every completed step" in res.err:
        assert now == before, f"the message says the account is as before, but:\n{res.err}"
    project.apply()
    assert differences(project.state(), before, inventory(aws_endpoint)) == []
    project.assert_clean()
