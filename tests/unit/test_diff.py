"""Change paths to the leaf (SPEC §5): maps by key, lists of maps by their natural key, by position
only when there is none; policy documents flagged wherever they sit."""

from __future__ import annotations

from deployer.diff import compare, leaf_changes


def paths(before, after, **kw):
    return [(p, b, a) for p, b, a, _ in leaf_changes("P", before, after, **kw)]


def test_a_gsi_projection_change_is_one_change_at_its_index_name():
    def gsi(projection):
        return [{"IndexName": "by-owner", "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": projection}},
                {"IndexName": "by-date", "KeySchema": [{"AttributeName": "date", "KeyType": "HASH"}],
                 "Projection": {"ProjectionType": "ALL"}}]
    changes = compare({"GlobalSecondaryIndexes"}, {"GlobalSecondaryIndexes": gsi("KEYS_ONLY")},
                      {"GlobalSecondaryIndexes": gsi("ALL")}, {}, set(), set())
    assert [(c.path, c.before, c.after) for c in changes] == [
        ("GlobalSecondaryIndexes[by-owner].Projection.ProjectionType", "ALL", "KEYS_ONLY")]


def test_statements_by_sid_and_inline_policies_by_name():
    def role(actions, resource, sid="Read"):
        return [{"PolicyName": "Access", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource}]}}]
    out = leaf_changes("Policies", role(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::b/*"), role("s3:*", "*"))
    assert [(p, policy) for p, _, _, policy in out] == [
        ("Policies[Access].PolicyDocument.Statement[Read].Action", True),
        ("Policies[Access].PolicyDocument.Statement[Read].Resource", True)]


def test_items_without_a_natural_key_pair_equal_items_first_then_by_position():
    before = [{"Effect": "Allow", "Action": "a"}, {"Effect": "Allow", "Action": "b"}]
    after = [{"Effect": "Allow", "Action": "b"}, {"Effect": "Deny", "Action": "a"}]
    assert paths(before, after) == [("P[1].Effect", "Allow", "Deny")]
    assert paths(before, before[:1]) == [("P[1]", before[1], None)]
    assert paths(before[:1], before) == [("P[1]", None, before[1])]


def test_a_duplicate_key_falls_back_to_positions():
    before = [{"Name": "a", "V": 1}, {"Name": "a", "V": 2}]
    after = [{"Name": "a", "V": 1}, {"Name": "a", "V": 3}]
    assert paths(before, after) == [("P[1].V", 2, 3)]


def test_security_group_rules_are_named_by_protocol_ports_and_peer():
    rule = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "10.0.0.0/16", "Description": "old"}
    other = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "10.0.0.0/8"}
    assert paths([rule, other], [{**rule, "Description": "new"}, other]) == [
        ("P[tcp 443-443 10.0.0.0/16].Description", "old", "new")]


def test_tags_are_keyed_and_scalar_lists_are_one_leaf():
    assert paths({"team": "a", "env": "dev"}, {"team": "b", "env": "dev"}, keyed=True) == [("P[team]", "a", "b")]
    assert paths(["a", "b"], ["a", "c"]) == [("P", ["a", "b"], ["a", "c"])]
    assert paths({"Variables": {"LOG": "1"}}, {"Variables": {"LOG": "2"}}) == [("P.Variables.LOG", "1", "2")]


def test_a_policy_document_is_flagged_and_other_values_are_not():
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    (change,) = compare({"AssumeRolePolicyDocument"}, {"AssumeRolePolicyDocument": policy},
                        {"AssumeRolePolicyDocument": {**policy, "Statement": [{**policy["Statement"][0],
                                                                                "Action": "s3:Get*"}]}},
                        {}, set(), set())
    assert change.path == "AssumeRolePolicyDocument.Statement[0].Action" and change.policy
    (plain,) = compare({"DelaySeconds"}, {"DelaySeconds": 1}, {"DelaySeconds": 2}, {}, set(), set())
    assert not plain.policy
