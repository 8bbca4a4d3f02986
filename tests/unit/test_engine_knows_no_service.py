"""The engine knows no AWS service: no error code, resource type name or property name appears as a
string in the engine's modules or in deployer/spec/ (docstrings and comments aside). Service
knowledge lives in deployer/resources/ and in the schemas, where a handler declares it."""

from __future__ import annotations

import ast
import functools
import json
from pathlib import Path

import botocore.session
import pytest

from deployer.resources import registry
from deployer.spec.refs import PSEUDO

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ["deployer/apply.py", "deployer/planner.py", "deployer/plan.py", "deployer/diff.py",
          "deployer/scheduler.py", "deployer/workflow.py", *sorted(str(p.relative_to(ROOT))
                                                                   for p in (ROOT / "deployer" / "spec").glob("*.py"))]
SERVICES = ("s3", "dynamodb", "iam", "lambda", "sqs", "sns", "logs", "ec2", "rds", "apigateway", "secretsmanager",
            "kms", "sts", "ssm", "resourcegroupstaggingapi")


def _property_names(schema: dict) -> set[str]:
    names: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            for key in ("properties", "patternProperties"):
                if isinstance(node.get(key), dict):
                    names.update(k for k in node[key] if key == "properties")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(schema)
    return names


@functools.cache
def _service_words() -> tuple[set[str], set[str], set[str]]:
    """(error codes, type names, property names) deployer's services and types use."""
    session = botocore.session.get_session()
    codes: set[str] = set()
    for service in SERVICES:
        model = session.get_service_model(service)
        codes |= {shape for shape in model.shape_names if model.shape_for(shape).metadata.get("exception")}
    types: set[str] = set()
    props: set[str] = set()
    for type_name, handler in registry().items():
        types.add(type_name)
        codes |= set(handler.not_found_codes) | set(handler.already_exists_codes)
        props |= _property_names(handler.schema)
    return codes, types, props


def _strings(path: Path) -> list[tuple[int, str]]:
    """Every string constant of a module except docstrings, with its line."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings]


@pytest.mark.parametrize("module", ENGINE)
def test_no_service_knowledge_in_the_engine(module):
    codes, types, props = _service_words()
    found = []
    for line, text in _strings(ROOT / module):
        words = set(text.replace("'", " ").replace('"', " ").split())
        if text in props or text in codes:
            found.append(f"{module}:{line}: {text!r} (a property name or error code)")
        for type_name in types:
            if type_name in text:
                found.append(f"{module}:{line}: {text!r} names the type {type_name}")
        found += [f"{module}:{line}: {text!r} names the error code {w}" for w in words & codes if len(w) > 8]
    assert found == []


def test_the_word_lists_are_real():
    codes, types, props = _service_words()
    assert {"NoSuchEntity", "ResourceNotFoundException", "NoSuchBucket"} <= codes
    assert "AWS::Lambda::Function" in types and {"BucketName", "Code", "KeySchema"} <= props
    assert not set(PSEUDO) & types  # AWS::Region is the spec language's, not a service's
    assert json.dumps(sorted(types))  # serialisable: the lists are plain strings
