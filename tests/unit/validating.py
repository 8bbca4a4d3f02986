"""What `deployer validate` says about one resource, for handler tests of plan-time refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from deployer.errors import SpecError
from deployer.spec import load_and_check


def resource_errors(tmp_path: Path, type_name: str, props: dict[str, Any], name: str = "R") -> list[str]:
    """The problems validate reports for a stack of one resource (no AWS call); [] when it is valid."""
    f = tmp_path / "stack.yaml"
    f.write_text(yaml.safe_dump({"stack": "demo", "resources": {name: {"type": type_name, "properties": props}}}))
    try:
        load_and_check(str(f))
    except SpecError as exc:
        return [str(p) for p in exc.problems]
    return []
