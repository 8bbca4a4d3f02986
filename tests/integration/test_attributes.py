"""Every attribute `validate` accepts as ${X.Attr} resolves after apply (SPEC §3), for every type:
a stack outputs each of them, and after the apply each output is a non-empty value — none vanishes.

A few attributes exist only in some configurations (a stream's ARN needs a stream); the cases here
configure the resource so they do. The emulator lacks one (below); deployer never bends to it."""

from __future__ import annotations

import copy

import pytest

from deployer.schemas_loader import attribute_names
from tests.integration.cases import Case, all_cases

R = "Subject"
# what a configuration must set for an attribute to exist at all
NEEDS = {
    ("AWS::DynamoDB::Table", "StreamArn"): {"StreamSpecification": {"StreamViewType": "NEW_IMAGE"}},
    ("AWS::RDS::DBInstance", "MasterUserSecret.SecretArn"): {"ManageMasterUserPassword": True},
}
# what the resources around it must be for an attribute to exist (a public address needs a public subnet)
SUPPORT_NEEDS = {("AWS::EC2::Instance", "PublicIp"): ("Subnet", {"MapPublicIpOnLaunch": True})}
# the emulator does not return these (documented in docs/resources/*.md); AWS does
EMULATOR_LACKS = {("AWS::RDS::DBInstance", "Endpoint.HostedZoneId")}


def one_case_per_type() -> list[Case]:
    seen: dict[str, Case] = {}
    for case in all_cases():
        seen.setdefault(case.type, case)
    return sorted(seen.values(), key=lambda c: c.type)


@pytest.mark.parametrize("case", one_case_per_type(), ids=lambda c: c.type)
def test_every_accepted_attribute_resolves_after_apply(project, case: Case):
    names = [a for a in attribute_names(case.type) if (case.type, a) not in EMULATOR_LACKS]
    if not names:
        pytest.skip(f"{case.type} has no Fn::GetAtt attributes")
    props, support = copy.deepcopy(case.props), copy.deepcopy(case.support)
    for name in names:
        if (case.type, name) in SUPPORT_NEEDS:
            other, extra = SUPPORT_NEEDS[(case.type, name)]
            support[other]["properties"].update(extra)
        for key, value in NEEDS.get((case.type, name), {}).items():
            props[key] = value
            if key == "ManageMasterUserPassword":
                props.pop("MasterUserPassword", None)
    outputs = {f"O{i}": "${" + f"{R}.{name}" + "}" for i, name in enumerate(names)}
    project.write({**support, R: {"type": case.type, "properties": props, "depends_on": case.depends_on}},
                  outputs=outputs)
    res = project.run("validate", str(project.spec_dir))
    assert res.code == 0, res.err
    project.apply()
    got = project.run("outputs", str(project.spec_dir), "--json").json()
    missing = [names[int(k[1:])] for k in outputs if got.get(k) in (None, "", [], {})]
    assert missing == [], f"{case.type}: no value after apply for {missing}"
    project.destroy()
