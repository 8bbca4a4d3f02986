from __future__ import annotations

import pytest

from tests.integration.harness import Project


@pytest.fixture
def project(tmp_path, aws_endpoint) -> Project:
    return Project(tmp_path)
