"""YAML parsing with marks: dates and timestamps stay the text written, other scalars keep their type."""

from __future__ import annotations

import json

import pytest

from deployer.spec.yamlmarks import parse_yaml


@pytest.mark.parametrize(("text", "expected"), [
    ("v: 2012-10-17", "2012-10-17"),                       # an IAM policy version, unquoted
    ("v: 2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
    ("v: 2001-12-14 21:59:43.10 -5", "2001-12-14 21:59:43.10 -5"),
    ("v: 2002-12-14T00:00:00Z", "2002-12-14T00:00:00Z"),
    ("v: !!timestamp 2002-12-14", "2002-12-14"),
    ('v: "2012-10-17"', "2012-10-17"),
])
def test_dates_and_timestamps_are_the_string_written(text, expected):
    data, _ = parse_yaml(text + "\n", "f.yaml")
    assert data == {"v": expected}


def test_a_date_key_is_its_text():
    data, marks = parse_yaml("2012-10-17: x\n", "f.yaml")
    assert data == {"2012-10-17": "x"} and ("2012-10-17",) in marks


@pytest.mark.parametrize(("text", "expected"), [
    ("v: 22", 22), ("v: 1.5", 1.5), ("v: true", True), ("v: no", False), ("v: null", None),
    ("v: 0x1f", 31), ("v: 1_000", 1000), ("v: 2012-10", "2012-10"), ("v: '22'", "22"),
])
def test_other_scalars_keep_their_yaml_type(text, expected):
    data, _ = parse_yaml(text + "\n", "f.yaml")
    assert data["v"] == expected and type(data["v"]) is type(expected)


def test_a_policy_with_an_unquoted_version_serialises_as_json():
    data, _ = parse_yaml("PolicyDocument:\n  Version: 2012-10-17\n  Statement: []\n", "f.yaml")
    assert json.loads(json.dumps(data)) == {"PolicyDocument": {"Version": "2012-10-17", "Statement": []}}
