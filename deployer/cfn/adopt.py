"""What a CloudFormation stack created, for adopting it into deployer state in one go
(`deployer import PATH --from-cloudformation STACK`): its resources' logical ids, types and
physical ids, as ListStackResources reports them."""

from __future__ import annotations

from dataclasses import dataclass

from deployer.aws import Aws
from deployer.errors import PlanError

# A resource CloudFormation still holds (a failed or deleted one has nothing to adopt).
HELD = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
        "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")


@dataclass(frozen=True)
class StackResource:
    logical_id: str
    type: str
    physical_id: str


def stack_resources(aws: Aws, region: str, stack: str) -> list[StackResource]:
    """Every resource the CloudFormation stack holds, in its logical id order."""
    client = aws.client("cloudformation", region)
    try:
        pages = list(client.get_paginator("list_stack_resources").paginate(StackName=stack))
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        if code == "ValidationError":
            raise PlanError(f"no CloudFormation stack '{stack}' in {region}") from exc
        raise
    found = [StackResource(r["LogicalResourceId"], r["ResourceType"], r.get("PhysicalResourceId", ""))
             for page in pages for r in page.get("StackResourceSummaries", [])
             if r.get("ResourceStatus") in HELD and r.get("PhysicalResourceId")]
    return sorted(found, key=lambda r: r.logical_id)
