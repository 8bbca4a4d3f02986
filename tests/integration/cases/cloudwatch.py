"""The case for AWS::CloudWatch::Dashboard: a named dashboard whose JSON body changes in place.

Left out (moto stores no dashboard tags; tests/unit/test_handlers_cloudwatch.py plays AWS's tagging):
a Tags update.
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from tests.integration.cases import Case


def _body(title: str, width: int = 6) -> str:
    return json.dumps({"widgets": [{"type": "text", "x": 0, "y": 0, "width": width, "height": 3,
                                    "properties": {"markdown": f"# {title}"}}]})


def dashboard_exists(c, pid: str) -> bool:
    try:
        c("cloudwatch").get_dashboard(DashboardName=pid)
    except ClientError:
        return False
    return True


CASES = [
    Case(
        id="cloudwatch-dashboard",
        type="AWS::CloudWatch::Dashboard",
        props={"DashboardName": "itest-dashboard", "DashboardBody": _body("Orders")},
        updates=[{"DashboardBody": _body("Orders and returns", width=12)}],
        replace={"DashboardName": "itest-dashboard-two"},
        drift=lambda c, pid: c("cloudwatch").put_dashboard(DashboardName=pid, DashboardBody=_body("by hand")),
        exists=dashboard_exists,
    ),
]
