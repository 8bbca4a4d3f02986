"""Load a stack: find its files, render each with Jinja2 (sandboxed), parse with marks, merge.

Variable declarations are read in a first, lenient pass (a declaration cannot depend on
variables); the second pass renders with the validated values and undefined names as errors.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from pathlib import Path as FsPath
from typing import Any

from deployer import secrets
from deployer.errors import Location, Problem, SpecError, UsageError
from deployer.spec import variables as variables_mod
from deployer.spec.model import Lifecycle, Resource, Stack
from deployer.spec.yamlmarks import Marks, YamlProblem, parse_yaml

MERGED_SECTIONS = ("variables", "resources", "outputs")
SINGLE_KEYS = ("stack", "region", "tags", "backend")
MAX_FILE_BYTES = 5 * 1024 * 1024
DEFAULT_REGION = "us-east-1"


def stack_files(path: str) -> list[FsPath]:
    """The files of a stack: the file itself, or every *.yaml/*.yml directly in a directory, by name."""
    p = FsPath(path)
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix in (".yaml", ".yml"))
        if not files:
            raise UsageError(f"{path}: no *.yaml or *.yml files in this directory")
        return files
    if p.is_file():
        return [p]
    raise UsageError(f"{path}: no such file or directory")


MAX_RENDERED_ITEMS = 1_000_000  # the longest string or list a template may build with * or **


TEMPLATE_MARKS = ("{{", "{%", "{#")  # Jinja2's delimiters: text without any renders to itself
_NEWLINES = re.compile(r"\r\n|\r")


@functools.cache
def _sandbox_class() -> type:
    """Jinja2's sandbox, plus limits on `*` and `**` so "{{ 'x' * 10**10 }}" fails fast instead of
    allocating gigabytes. Built on first use: Jinja2 is imported only for files that are templates."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    class _Sandbox(SandboxedEnvironment):
        intercepted_binops = frozenset(["*", "**"])

        def call_binop(self, context, operator, left, right):
            if operator == "*":
                for seq, n in ((left, right), (right, left)):
                    if isinstance(seq, str | list | tuple) and isinstance(n, int) and len(seq) * n > MAX_RENDERED_ITEMS:
                        raise jinja2.exceptions.SecurityError(f"'*' would build {len(seq) * n} items")
            if operator == "**" and isinstance(right, int) and abs(right) > 1000:
                raise jinja2.exceptions.SecurityError("'**' exponent over 1000")
            return super().call_binop(context, operator, left, right)

    return _Sandbox


def _environment(strict: bool) -> Any:
    import jinja2
    from jinja2.sandbox import safe_range

    env = _sandbox_class()(
        undefined=jinja2.StrictUndefined if strict else jinja2.ChainableUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.filters["b64encode"] = _b64encode  # CloudFormation's Fn::Base64 (EC2 UserData)
    allowed = {"range": safe_range, "dict": dict, "namespace": env.globals.get("namespace")}
    env.globals.clear()
    env.globals.update({k: v for k, v in allowed.items() if v is not None})
    return env


def _b64encode(value: Any) -> str:
    import base64

    return base64.b64encode(str(value).encode()).decode()


def _template_line(exc: BaseException, name: str) -> int:
    lineno = getattr(exc, "lineno", None)
    if lineno:
        return lineno
    tb = exc.__traceback__
    found = 1
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == name:
            found = tb.tb_lineno
        tb = tb.tb_next
    return found


def render(text: str, filename: str, context: Mapping[str, Any], strict: bool = True) -> str:
    """Render one file's text; a template error becomes a YamlProblem at the template line. Text with
    no Jinja2 delimiter is its own rendering (trailing newline kept): returned without Jinja2."""
    if not any(mark in text for mark in TEMPLATE_MARKS):
        return _NEWLINES.sub("\n", text)  # as Jinja2's lexer writes line ends
    import jinja2

    env = _environment(strict)
    try:
        template = env.from_string(text)
        template.filename = filename
        return template.render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise YamlProblem(Problem(Location(filename, exc.lineno or 1, 1), "", f"template error: {exc.message}")) from None
    except jinja2.exceptions.SecurityError as exc:
        line = _template_line(exc, filename)
        raise YamlProblem(Problem(Location(filename, line, 1), "", f"template error: not allowed: {exc}")) from None
    except jinja2.UndefinedError as exc:
        line = _template_line(exc, filename)
        raise YamlProblem(Problem(Location(filename, line, 1), "", f"template error: {exc.message}")) from None
    except (RecursionError, MemoryError, OverflowError):
        raise YamlProblem(Problem(Location(filename, 1, 1), "", "template error: template too large or too deep")) from None
    except Exception as exc:  # any other error raised while evaluating a template expression
        line = _template_line(exc, filename)
        raise YamlProblem(Problem(Location(filename, line, 1), "", f"template error: {type(exc).__name__}: {exc}")) from None


def _read(path: FsPath) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise YamlProblem(Problem(Location(str(path), 1, 1), "",
                                      f"file is {size} bytes; spec files are limited to {MAX_FILE_BYTES} bytes"))
        data = path.read_bytes()
    except OSError as exc:
        raise YamlProblem(Problem(Location(str(path), 1, 1), "", f"cannot read file: {exc.strerror}")) from None
    if b"\x00" in data:
        raise YamlProblem(Problem(Location(str(path), 1, 1), "", "binary file: a spec file must be UTF-8 text"))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise YamlProblem(Problem(Location(str(path), line, 1), "", "file is not valid UTF-8 text")) from None


def _parse_file(text: str, filename: str) -> tuple[dict[str, Any], Marks]:
    data, marks = parse_yaml(text, filename)
    if data is None:
        raise YamlProblem(Problem(Location(filename, 1, 1), "", "empty file: a spec file must hold a mapping"))
    if not isinstance(data, dict):
        raise YamlProblem(Problem(Location(filename, 1, 1), "",
                                  f"a spec file must be a mapping of top-level keys, not a {type(data).__name__}"))
    return data, marks


_STATEMENT = re.compile(r"\{%.*%\}")
_EXPRESSION = re.compile(r"\{\{.*?\}\}")


def _strip_jinja(text: str) -> str:
    """The file with template statements dropped and expressions blanked, line numbers kept."""
    lines = ["" if _STATEMENT.search(line) else _EXPRESSION.sub("x", line) for line in text.splitlines()]
    return "\n".join(lines) + "\n"


def _has_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def _declarations(texts: list[tuple[str, str]]) -> tuple[dict[str, Any], dict[str, Any], Marks, dict[str, Problem]]:
    """First pass: render leniently and collect variable declarations, stack name and region.
    Also returns, per file that could not be parsed even leniently, the YAML problem that stopped it."""
    decls: dict[str, Any] = {}
    top: dict[str, Any] = {}
    marks: Marks = {}
    unparsable: dict[str, Problem] = {}
    for filename, text in texts:
        data = file_marks = None
        first: Problem | None = None
        for lenient in (True, False) if _has_template(text) else (True,):
            try:
                text_now = (render(text, filename, {"var": {}, "stack": "", "region": ""}, strict=False)
                            if lenient else _strip_jinja(text))
                data, file_marks = _parse_file(text_now, filename)
                break
            except YamlProblem as exc:
                first = first or exc.problem
                continue
        if data is None:
            if first is not None:
                unparsable[filename] = first
            continue
        if isinstance(data.get("variables"), dict):
            for name, decl in data["variables"].items():
                decls.setdefault(name, decl)
                marks[("variables", name)] = file_marks.get(("variables", name))
        for key in ("stack", "region"):
            if isinstance(data.get(key), str) and data[key]:
                top.setdefault(key, data[key])
    return decls, top, marks, unparsable


def load_stack(
    path: str,
    cli_vars: list[str] | None = None,
    var_files: list[str] | None = None,
    region: str | None = None,
    environ: Mapping[str, str] | None = None,
    stack_name: str | None = None,
) -> Stack:
    """Load, render and merge a stack's files. Raises SpecError listing every problem found.
    A CloudFormation template (one file whose top level has `Resources`) is read by deployer.cfn;
    stack_name (the CLI's --stack) names its stack."""
    environ = os.environ if environ is None else environ
    from deployer import cfn

    if cfn.is_template(path):
        from deployer.cfn.loader import load_template

        return load_template(path, cli_vars or [], var_files or [], region, environ, stack_name)
    problems: list[Problem] = []
    texts: list[tuple[str, str]] = []
    for f in stack_files(path):
        try:
            texts.append((str(f), _read(f)))
        except YamlProblem as exc:
            problems.append(exc.problem)

    decls, top, decl_marks, unparsable = _declarations(texts)
    given, var_problems = variables_mod.gather_values(decls, cli_vars or [], var_files or [], environ)
    problems += var_problems
    values, value_problems = variables_mod.resolve(decls, given, lambda p: decl_marks.get(p))
    problems += value_problems
    sensitive = [values[n] for n, d in decls.items() if isinstance(d, dict) and d.get("sensitive") and n in values]
    for v in sensitive:
        secrets.register(v)

    stack_region = region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or top.get("region") or DEFAULT_REGION
    context = {"var": values, "stack": top.get("stack", ""), "region": stack_region}

    merged: dict[str, Any] = {}
    marks: Marks = {}
    origin: dict[tuple[str, ...], Location] = {}
    for filename, text in texts:
        if filename in unparsable and not _has_template(text):
            problems.append(unparsable[filename])  # no template: the same YAML error again, skip the re-parse
            continue
        try:
            rendered = render(text, filename, context, strict=True)
            data, file_marks = _parse_file(rendered, filename)
        except YamlProblem as exc:
            # a YAML error in a file also hides its variable declarations, and the undefined names that
            # follow are only its echo: report the YAML error, the cause
            cause = unparsable.get(filename) if "template error" in exc.problem.message else None
            problems.append(cause or exc.problem)
            continue
        accepted: set[tuple] = set()  # (key,) or (section, name) whose marks this file contributes
        for key, value in data.items():
            loc = file_marks.get((key,))
            if key in MERGED_SECTIONS and isinstance(value, dict):
                section = merged.setdefault(key, {})
                if not isinstance(section, dict):
                    continue
                marks.setdefault((key,), loc)
                for name, item in value.items():
                    where = file_marks.get((key, name))
                    if (key, name) in origin:
                        problems.append(Problem(where, f"{key}.{name}",
                                                f"'{name}' is defined twice (first at {origin[(key, name)]})"))
                        continue
                    origin[(key, name)] = where
                    section[name] = item
                    accepted.add((key, name))
                continue
            if (key,) in origin:
                problems.append(Problem(loc, key, f"top-level key '{key}' is defined twice (first at {origin[(key,)]})"))
                continue
            origin[(key,)] = loc
            merged[key] = value
            accepted.add((key,))
        for p, m in file_marks.items():  # one pass: marks of everything this file defined
            if p[:1] in accepted or p[:2] in accepted:
                marks[p] = m
    if problems:
        raise SpecError(problems)
    first_file = texts[0][0] if texts else path
    marks.setdefault((), Location(first_file, 1, 1))
    if "stack" not in merged:
        raise SpecError([Problem(Location(first_file, 1, 1), "stack", "required key 'stack' is missing")])
    problems += _substitute_variables(merged, marks, values, first_file)
    if problems:
        raise SpecError(problems)
    return _build(merged, marks, values, sensitive, stack_region, region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION"), path)


def _substitute_variables(data: dict[str, Any], marks: Marks, values: dict[str, Any], first_file: str) -> list[Problem]:
    """${var.NAME} in properties and outputs, replaced in place after parsing (so validation sees the
    typed value); an undeclared name is a problem at its line."""
    from deployer.spec.refs import substitute_variables
    from deployer.spec.suggest import did_you_mean
    from deployer.spec.yamlmarks import format_path

    found: list[tuple[tuple, str]] = []
    resources = data.get("resources") if isinstance(data.get("resources"), dict) else {}
    for name, body in resources.items():
        if isinstance(body, dict) and isinstance(body.get("properties"), dict):
            body["properties"], missing = substitute_variables(body["properties"], values,
                                                               ("resources", name, "properties"))
            found += missing
    if isinstance(data.get("outputs"), dict):
        data["outputs"], missing = substitute_variables(data["outputs"], values, ("outputs",))
        found += missing
    problems = []
    for path, var in found:
        where = next((marks[path[:n]] for n in range(len(path), -1, -1) if path[:n] in marks),
                     Location(first_file, 1, 1))
        problems.append(Problem(where, format_path(path),
                                f"undeclared variable '{var}' in ${{var.{var}}}" + did_you_mean(var, values)))
    return problems


def _absolute_paths(type_name: Any, props: dict[str, Any], where: Location | None, stack_path: str) -> dict[str, Any]:
    """Local file paths in properties (those a type's schema marks `localPath`, e.g. a Lambda
    function's code directory) are relative to the file that declares them."""
    from deployer.schemas_loader import local_path_pointers

    for pointer in local_path_pointers(type_name) if isinstance(type_name, str) else ():
        *outer, inner = pointer.split("/")[2:]
        holder = props
        for part in outer:
            holder = holder.get(part) if isinstance(holder, dict) else None
        if not isinstance(holder, dict) or not isinstance(holder.get(inner), str) or "${" in holder[inner]:
            continue
        base = FsPath(where.file).parent if where else FsPath(stack_path)
        target = FsPath(holder[inner])
        if not target.is_absolute():
            target = (base / target).resolve()
        props = _replaced(props, [*outer, inner], str(target))
    return props


def _replaced(data: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """A copy of data with the value at path (every level a mapping) replaced."""
    head, *rest = path
    return {**data, head: _replaced(data[head], rest, value) if rest else value}


def _build(data: dict[str, Any], marks: Marks, values: dict[str, Any], sensitive: list[Any],
           region: str, region_override: str | None, path: str) -> Stack:
    """Turn merged raw data into a Stack. Shapes are checked later by the schema; be tolerant here."""
    resources: dict[str, Resource] = {}
    raw_resources = data.get("resources") if isinstance(data.get("resources"), dict) else {}
    for name, body in raw_resources.items():
        if not isinstance(body, dict):
            body = {}
        lifecycle = body.get("lifecycle") if isinstance(body.get("lifecycle"), dict) else {}
        props = body.get("properties")
        if isinstance(props, dict):
            props = _absolute_paths(body.get("type"), props, marks.get(("resources", name)), path)
        depends = body.get("depends_on") or []
        resources[name] = Resource(
            name=name,
            type=str(body.get("type", "")),
            properties=props if isinstance(props, dict) else {},
            depends_on=[depends] if isinstance(depends, str) else [str(d) for d in depends] if isinstance(depends, list) else [],
            region=body.get("region") if isinstance(body.get("region"), str) else None,
            deletion_policy=str(body["deletion_policy"]) if body.get("deletion_policy") else None,
            update_replace_policy=str(body["update_replace_policy"]) if body.get("update_replace_policy") else None,
            lifecycle=Lifecycle(
                prevent_destroy=bool(lifecycle.get("prevent_destroy", False)),
                create_before_destroy=bool(lifecycle.get("create_before_destroy", False)),
                allow_replace=bool(lifecycle.get("allow_replace", False)),
                force_destroy=bool(lifecycle.get("force_destroy", False)),
                ignore_changes=[str(x) for x in lifecycle.get("ignore_changes", []) or []]
                if isinstance(lifecycle.get("ignore_changes", []), list) else [],
            ),
        )
    tags = data.get("tags") if isinstance(data.get("tags"), dict) else {}
    backend = data.get("backend") if isinstance(data.get("backend"), dict) else {"type": "local"}
    return Stack(
        name=str(data.get("stack", "")),
        region=region_override or (data.get("region") if isinstance(data.get("region"), str) else None) or region,
        path=path,
        tags={str(k): str(v) for k, v in tags.items()},
        backend=backend,
        variables=values,
        resources=resources,
        outputs=data.get("outputs") if isinstance(data.get("outputs"), dict) else {},
        sensitive_values=[str(v) for v in sensitive],
        raw=data,
        marks=marks,
    )
