"""Load a stack: find its files, render each with Jinja2 (sandboxed), parse with marks, merge.

Variable declarations are read in a first, lenient pass (a declaration cannot depend on
variables); the second pass renders with the validated values and undefined names as errors.
Template values are placed as values (deployer.spec.template), never spliced into the YAML text,
and every mark points at the line of the file as written, also inside loops.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from deployer import regions, secrets
from deployer.errors import Location, Problem, SpecError, UsageError
from deployer.regions import override_region
from deployer.spec import environments as environments_mod
from deployer.spec import template as template_mod
from deployer.spec import variables as variables_mod
from deployer.spec.model import Lifecycle, Resource, Stack
from deployer.spec.yamlmarks import Marks, YamlProblem, format_path, parse_yaml

MERGED_SECTIONS = ("variables", "resources", "outputs")
SINGLE_KEYS = ("stack", "region", "tags", "backend")
MAX_FILE_BYTES = 5 * 1024 * 1024
IGNORED_SUFFIXES = (".vars.yaml", ".vars.yml")  # variable files kept beside a stack's files


def ignored(name: str) -> bool:
    """A file of a stack directory that is not one of its files: dotfiles and *.vars.yaml/yml."""
    return name.startswith(".") or name.endswith(IGNORED_SUFFIXES)


def stack_files(path: str) -> list[FsPath]:
    """The files of a stack: the file itself, or every *.yaml/*.yml directly in a directory, by name,
    except dotfiles and variable files (*.vars.yaml, *.vars.yml)."""
    p = FsPath(path)
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix in (".yaml", ".yml") and not ignored(f.name))
        if not files:
            raise UsageError(f"{path}: no *.yaml or *.yml files in this directory (dotfiles and *.vars.yaml "
                             "are not stack files)")
        return files
    if p.is_file():
        return [p]
    raise UsageError(f"{path}: no such file or directory")


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


def _check_reserved(text: str, filename: str) -> None:
    """The noncharacters that mark template values and lines cannot be in a file."""
    found = template_mod.RESERVED.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        raise YamlProblem(Problem(Location(filename, line, found.start() - text.rfind("\n", 0, found.start())), "",
                                  f"character U+{ord(found.group()):04X} is reserved (deployer marks template "
                                  "values with it)"))


def _parse_file(text: str, filename: str, lines: list[int] | None = None,
                values: template_mod.Values | None = None) -> tuple[dict[str, Any], Marks]:
    data, marks = parse_yaml(text, filename, lines, values)
    if data is None:
        raise YamlProblem(Problem(Location(filename, 1, 1), "", "empty file: a spec file must hold a mapping"))
    if not isinstance(data, dict):
        raise YamlProblem(Problem(Location(filename, 1, 1), "",
                                  f"a spec file must be a mapping of top-level keys, not a {type(data).__name__}"))
    return data, marks


def _render_parse(text: str, filename: str, context: Mapping[str, Any], budget: template_mod.Budget,
                  strict: bool) -> tuple[dict[str, Any], Marks]:
    out = template_mod.render(text, filename, context, budget, strict=strict)
    return _parse_file(out.text, filename, out.lines, out.values)


# --- the first pass: declarations ----------------------------------------------------------------

_STATEMENT = re.compile(r"\{%.*?%\}", re.S)
_EXPRESSION = re.compile(r"\{\{.*?\}\}", re.S)
_COMMENT = re.compile(r"\{#.*?#\}", re.S)


def _same_lines(pattern: re.Pattern, text: str, replacement: str) -> str:
    return pattern.sub(lambda m: replacement + "\n" * m.group().count("\n"), text)


def _without_tags(text: str) -> str:
    """The file with template statements and comments removed (what is around them on their line
    kept) and expressions as a placeholder word, line numbers kept."""
    text = _same_lines(_COMMENT, text, "")
    text = _same_lines(_STATEMENT, text, "")
    return _same_lines(_EXPRESSION, text, "x")


def _without_tag_lines(text: str) -> str:
    """The file with every line that holds a template statement dropped, expressions as a word."""
    lines = ["" if "{%" in line else _EXPRESSION.sub("x", line) for line in text.splitlines()]
    return "\n".join(lines) + "\n"


_has_template = template_mod.has_template


@dataclass
class FirstPass:
    """What the lenient first pass read: variable declarations, the top-level `stack`, `region` and
    `environments` (as written), their marks, and per unparsable file the problem that stopped it."""

    declarations: dict[str, Any] = field(default_factory=dict)
    top: dict[str, Any] = field(default_factory=dict)
    marks: Marks = field(default_factory=dict)
    unparsable: dict[str, Problem] = field(default_factory=dict)
    # a file without template marks parses the same in both passes: its parse, kept for the second
    plain: dict[str, tuple[dict[str, Any], Marks]] = field(default_factory=dict)


def _declarations(texts: list[tuple[str, str]], budget: template_mod.Budget,
                  extra: Mapping[str, Any]) -> FirstPass:
    """First pass: render leniently (anything unknown renders as nothing) and collect declarations;
    a file that does not parse so is read with its template tags removed, then without their lines."""
    found = FirstPass()
    context = {"var": template_mod.Variables(), "stack": "", "region": "", **extra}
    for filename, text in texts:
        data = file_marks = None
        first: Problem | None = None
        attempts = ("render", "tags", "lines") if _has_template(text) else ("render",)
        for attempt in attempts:
            try:
                if attempt == "render":
                    data, file_marks = _render_parse(text, filename, context, budget, strict=False)
                else:
                    data, file_marks = _parse_file(_without_tags(text) if attempt == "tags"
                                                   else _without_tag_lines(text), filename)
                break
            except YamlProblem as exc:
                first = first or exc.problem
                if "template error" in exc.problem.message and "not allowed" not in exc.problem.message and \
                        budget.spent >= budget.limit:
                    break  # out of time: the second pass reports it
        if data is None:
            if first is not None:
                found.unparsable[filename] = first
            continue
        if not _has_template(text):
            found.plain[filename] = (data, file_marks)
        if isinstance(data.get("variables"), dict):
            for name, decl in data["variables"].items():
                found.declarations.setdefault(name, decl)
                for p, m in file_marks.items():
                    if p[:2] == ("variables", name):
                        found.marks.setdefault(p, m)
        for key in ("stack", "region"):
            if isinstance(data.get(key), str) and data[key]:
                found.top.setdefault(key, data[key])
        if isinstance(data.get("environments"), dict) and "environments" not in found.top:
            found.top["environments"] = data["environments"]
            found.marks.update({p: m for p, m in file_marks.items() if p[:1] == ("environments",)})
    return found


# --- loading -------------------------------------------------------------------------------------

def load_stack(
    path: str,
    cli_vars: list[str] | None = None,
    var_files: list[str] | None = None,
    region: str | None = None,
    environ: Mapping[str, str] | None = None,
    stack_name: str | None = None,
    var_order: list[str] | None = None,
    env: str | None = None,
) -> Stack:
    """Load, render and merge a stack's files. Raises SpecError listing every problem found.
    A CloudFormation template (one file whose top level has `Resources`) is read by deployer.cfn;
    stack_name (the CLI's --stack) names its stack.

    var_order: "var"/"file" per --var/--var-file as given on the command line (their precedence).
    env: the environment (`--env`, SPEC §9) to load a stack that declares `environments` for
    (deployer.spec.environments); required for one, refused for one without."""
    environ = os.environ if environ is None else environ
    from deployer import cfn

    if cfn.is_template(path):
        from deployer.cfn.loader import load_template

        if env:
            raise UsageError(f"--env {env} (or DEPLOYER_ENV): {path} is a CloudFormation template, which declares "
                             "no environments; drop the option, and pass the template's parameters with --var")

        return load_template(path, cli_vars or [], var_files or [], region, environ, stack_name)
    problems: list[Problem] = []
    texts: list[tuple[str, str]] = []
    for f in stack_files(path):
        try:
            text = _read(f)
            _check_reserved(text, str(f))
            texts.append((str(f), text))
        except YamlProblem as exc:
            problems.append(exc.problem)

    extra = {"env": env} if env else {}  # templates see the environment's name (SPEC §9)
    budget = template_mod.Budget()
    first = _declarations(texts, budget, extra)
    environments_mod.check_names(first.top, first.marks, path)
    chosen = environments_mod.choose(first.top, first.marks, env, path)
    decls = first.declarations
    resolution = _variables(first, cli_vars or [], var_files or [], environ, var_order, chosen)
    problems += resolution.problems
    values = resolution.values
    sensitive = [values[n] for n, d in decls.items() if isinstance(d, dict) and d.get("sensitive") and n in values]
    external = {n for n, source in resolution.sources.items() if source.external}  # literal text
    for v in sensitive:
        secrets.register(v, fields=True)
        escaped = template_mod.template_values({"v": v})["v"]
        if escaped != v:
            secrets.register(escaped, fields=True)  # the form templates see
    problems += [Problem(first.marks.get(("variables", n)), f"var.{n}", m) for n, d in decls.items()
                 if isinstance(d, dict) and d.get("sensitive") and n in values for m in secrets.unhideable(values[n], d)]

    # an environment's region replaces the stack's own, under --region and AWS_REGION
    region = override_region(region, environ) or (chosen.region if chosen else None)
    stack_region = regions.stack_region(region, first.top.get("region"), environ)
    context = {"var": template_mod.template_values(values, external), "stack": first.top.get("stack", ""),
               "region": stack_region, **extra}

    merged: dict[str, Any] = {}
    marks: Marks = {}
    origin: dict[tuple[str, ...], Location] = {}
    directory = FsPath(path).is_dir()
    for filename, text in texts:
        if filename in first.unparsable and not _has_template(text):
            problems.append(first.unparsable[filename])  # no template: the same YAML error again, skip the re-parse
            continue
        try:
            data, file_marks = first.plain.pop(filename, None) or \
                _render_parse(text, filename, context, budget, strict=True)
        except YamlProblem as exc:
            # a YAML error in a file also hides its variable declarations, and the undefined names that
            # follow are only its echo: report the YAML error, the cause
            cause = first.unparsable.get(filename) if "template error" in exc.problem.message else None
            problems.append(cause or exc.problem)
            continue
        if directory:
            stray = _not_a_stack_file(data, filename, decls)
            if stray:
                problems.append(stray)
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
    problems += _substitute_variables(merged, marks, values, first_file, external)
    problems += _misplaced_variables(merged, marks, first_file)
    if problems:
        raise SpecError(problems)
    stack = _build(merged, marks, values, sensitive, stack_region, region, path, environ)
    if chosen is not None:
        environments_mod.apply_to(stack, chosen)
    stack.variable_sources = resolution.sources
    stack.variable_overrides = resolution.overrides
    stack.warnings += resolution.warnings
    return stack


def environment_names(path: str) -> list[str]:
    """The environments a stack declares (SPEC §9), read as the first pass reads them; none for a
    CloudFormation template or files that cannot be read (loading reports those)."""
    from deployer import cfn

    if cfn.is_template(path):
        return []
    texts = []
    for f in stack_files(path):
        try:
            texts.append((str(f), _read(f)))
        except YamlProblem:
            continue
    if not any("environments" in text for _, text in texts):
        return []  # nothing to parse for
    return [str(n) for n in environments_mod.declared(_declarations(texts, template_mod.Budget(), {}).top)]


def _variables(first: FirstPass, cli_vars: list[str], var_files: list[str], environ: Mapping[str, str],
               var_order: list[str] | None,
               environment: environments_mod.Environment | None) -> variables_mod.Resolution:
    """The variables' values by SPEC §2's precedence, each with its source."""
    decls = first.declarations

    def locate(p: tuple) -> Location | None:
        return first.marks.get(p)

    layers = [variables_mod.defaults_layer(decls, locate)]
    chosen = variables_mod.environment_layer(environment.name, environment.variables, environment.locations) \
        if environment is not None else None
    if chosen is not None:
        layers.append(chosen)
    env_layer, problems, warnings = variables_mod.environ_layer(environ, decls)
    layers.append(env_layer)
    given, found = variables_mod.command_line_layers(decls, cli_vars, var_files, var_order)
    layers += given
    resolution = variables_mod.resolve_layers(decls, layers, locate)
    resolution.problems = problems + found + resolution.problems
    resolution.warnings += warnings
    if chosen is not None:
        for name in chosen.values:
            if name not in decls:
                where = chosen.locations.get(name)
                resolution.problems.append(Problem(where, f"var.{name}", variables_mod.undeclared(str(name), decls)))
    return resolution


def _not_a_stack_file(data: dict[str, Any], filename: str, decls: Mapping[str, Any]) -> Problem | None:
    """A file of a stack directory with none of the stack's top-level keys (a variable file kept there,
    most likely): one problem with the fix, instead of one unknown key per line."""
    from deployer.schemas_loader import envelope_schema

    known = set(envelope_schema().get("properties", {})) | set(MERGED_SECTIONS) | set(SINGLE_KEYS)
    if any(k in known for k in data):
        return None
    keys = ", ".join(str(k) for k in list(data)[:8])
    if any(k in decls for k in data):
        fix = (f"it looks like a variable file: name it {FsPath(filename).stem}.vars.yaml (a stack directory "
               "ignores *.vars.yaml and dotfiles) and pass it with --var-file")
    else:
        fix = f"a stack file has some of {', '.join(sorted(known))}"
    return Problem(Location(filename, 1, 1), "", f"not a stack file (its keys: {keys}): {fix}")


def _substitute_variables(data: dict[str, Any], marks: Marks, values: dict[str, Any], first_file: str,
                          external: set[str]) -> list[Problem]:
    """${var.NAME} in properties, outputs and stack tags, replaced in place after parsing (so validation
    sees the typed value; the text of a value given from outside the spec is literal); an undeclared
    name is a problem at its line."""
    from deployer.spec.refs import substitute_variables

    found: list[tuple[tuple, str]] = []
    resources = data.get("resources") if isinstance(data.get("resources"), dict) else {}
    for name, body in resources.items():
        if isinstance(body, dict) and isinstance(body.get("properties"), dict):
            body["properties"], missing = substitute_variables(body["properties"], values,
                                                               ("resources", name, "properties"), external)
            found += missing
    for section in ("outputs", "tags"):
        if isinstance(data.get(section), dict):
            data[section], missing = substitute_variables(data[section], values, (section,), external)
            found += missing
    problems = []
    for path, var in found:
        problems.append(Problem(_nearest(marks, path, first_file), format_path(path),
                                variables_mod.undeclared(var, values, f" in ${{var.{var}}}")))
    return problems


def _nearest(marks: Marks, path: tuple, first_file: str) -> Location:
    return next((marks[path[:n]] for n in range(len(path), -1, -1) if path[:n] in marks), Location(first_file, 1, 1))


_SUBSTITUTED = {"resources": "properties", "outputs": None, "tags": None, "variables": None, "environments": None}


def _misplaced_variables(data: dict[str, Any], marks: Marks, first_file: str) -> list[Problem]:
    """${var.NAME} where it is not replaced (the stack name, region, backend, a resource's type,
    region, depends_on, lifecycle...): a problem saying to write {{ var.NAME }} there."""
    problems: list[Problem] = []

    def walk(value: Any, path: tuple) -> None:
        if isinstance(value, str) and "${var." in value:
            problems.append(Problem(_nearest(marks, path, first_file), format_path(path),
                                    "${var.NAME} is replaced in properties, outputs and tags only; "
                                    "here write {{ var.NAME }} (a template expression)"))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*path, i))

    for key, value in data.items():
        if key == "resources" and isinstance(value, dict):
            for name, body in value.items():
                if isinstance(body, dict):
                    for field_name, v in body.items():
                        if field_name != "properties":
                            walk(v, ("resources", name, field_name))
        elif key not in _SUBSTITUTED:
            walk(value, (key,))
    return problems


def _absolute_paths(type_name: Any, props: dict[str, Any], marks: Marks, base_path: tuple, stack_path: str,
                    roots: list[str]) -> tuple[dict[str, Any], list[Problem]]:
    """Local file paths in properties (those a type's schema marks `localPath`, e.g. a Lambda
    function's code directory) are relative to the file that declares them, and must stay inside the
    stack's directory or an allowed root (deployer.codezip.check_root)."""
    from deployer.codezip import CodePathError, check_root
    from deployer.schemas_loader import local_path_pointers

    problems: list[Problem] = []
    where = marks.get(base_path[:2])
    for pointer in local_path_pointers(type_name) if isinstance(type_name, str) else ():
        *outer, inner = pointer.split("/")[2:]
        holder = props
        for part in outer:
            holder = holder.get(part) if isinstance(holder, dict) else None
        if not isinstance(holder, dict) or not isinstance(holder.get(inner), str):
            continue
        at = (*base_path, *outer, inner)
        loc = _nearest(marks, at, stack_path)
        if "${" in holder[inner]:
            problems.append(Problem(loc, format_path(at), "a local path cannot hold a reference: it is read at "
                                                          "plan time (write {{ var.NAME }} for a variable)"))
            continue
        base = FsPath(where.file).parent if where else FsPath(stack_path)
        target = FsPath(holder[inner])
        if not target.is_absolute():
            target = FsPath(os.path.abspath(base / target))
        try:
            check_root(str(target), roots)
        except CodePathError as exc:
            problems.append(Problem(loc, format_path(at), str(exc)))
            continue
        props = _replaced(props, [*outer, inner], str(target))
    return props, problems


def _replaced(data: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """A copy of data with the value at path (every level a mapping) replaced."""
    head, *rest = path
    return {**data, head: _replaced(data[head], rest, value) if rest else value}


def _build(data: dict[str, Any], marks: Marks, values: dict[str, Any], sensitive: list[Any],
           region: str, region_override: str | None, path: str, environ: Mapping[str, str]) -> Stack:
    """Turn merged raw data into a Stack. Shapes are checked later by the schema; be tolerant here."""
    from deployer.codezip import allowed_roots

    roots = allowed_roots(path if FsPath(path).is_dir() else os.path.dirname(os.path.abspath(path)), environ)
    problems: list[Problem] = []
    resources: dict[str, Resource] = {}
    raw_resources = data.get("resources") if isinstance(data.get("resources"), dict) else {}
    for name, body in raw_resources.items():
        if not isinstance(body, dict):
            body = {}
        lifecycle = body.get("lifecycle") if isinstance(body.get("lifecycle"), dict) else {}
        props = body.get("properties")
        if isinstance(props, dict):
            props, found = _absolute_paths(body.get("type"), props, marks, ("resources", name, "properties"), path,
                                           roots)
            problems += found
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
    if problems:
        raise SpecError(problems)
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
