"""Variable values: read from their sources, typed, checked by JSON Schema, and remembered by source.

Precedence (SPEC §2), lowest first — each source is one `Layer`, and later layers win:
  1. the declared `default`;
  2. the selected environment's `variables` (SPEC §9; the caller builds it with `environment_layer`);
  3. environment variables `DEPLOYER_VAR_<name>`;
  4. `--var-file FILE` and `--var NAME=VALUE`, in the order given on the command line.
`resolve_layers` keeps, per variable, the source that set it and what it replaced (`Override`), so a
plan can say when a var file or an environment variable overrides something.

Every input is bounded: a `--var` or `DEPLOYER_VAR_*` value of at most MAX_VALUE_BYTES, a var file of at
most MAX_VAR_FILE_BYTES, and both parsed by the spec parser (deployer.spec.yamlmarks), which refuses alias
bombs, duplicate keys and absurd nesting like it does in spec files.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deployer.errors import Location, Problem
from deployer.spec.yamlmarks import YamlProblem, parse_yaml

SCHEMA_KEYWORDS = ("type", "enum", "pattern", "minimum", "maximum", "minLength", "maxLength", "items",
                   "properties", "exclusiveMinimum", "exclusiveMaximum", "const", "format")
ENV_PREFIX = "DEPLOYER_VAR_"
TERRAFORM_PREFIX = "TF_VAR_"
MAX_VALUE_BYTES = 64 * 1024
MAX_VAR_FILE_BYTES = 1024 * 1024
COMMAND_LINE = Location("<command line>", 0, 0)
SYSTEM_ROOTS = ("/proc", "/sys", "/dev")

# the kinds of source, lowest precedence first
DEFAULT, ENVIRONMENT, ENV_VAR, VAR_FILE, VAR = "default", "environment", "env_var", "var_file", "var"


@dataclass(frozen=True)
class Source:
    """Where a variable's value came from: its kind (one of the constants above) and how a user names
    it (`its default`, `environment 'prod'`, `DEPLOYER_VAR_memory`, `--var-file prod.vars.yaml`,
    `--var memory=...`)."""

    kind: str
    label: str
    location: Location | None = None

    def __str__(self) -> str:
        return self.label

    @property
    def external(self) -> bool:
        """Given from outside the spec (command line, var file, process environment): its text is
        literal, never a reference (a default or an environment's value is the spec's own text)."""
        return self.kind in (ENV_VAR, VAR_FILE, VAR)


@dataclass
class Layer:
    """One source's values. `raw` values are strings from the command line or the process
    environment, typed by the declaration; the others are typed already (YAML)."""

    kind: str
    label: str
    values: dict[str, Any] = field(default_factory=dict)
    locations: dict[str, Location] = field(default_factory=dict)
    raw: bool = False

    def source(self, name: str) -> Source:
        label = f"--var {name}=..." if self.kind == VAR else self.label.replace("{name}", name)
        return Source(self.kind, label, self.locations.get(name))


@dataclass(frozen=True)
class Override:
    """A variable set by a source that replaced the value of a lower one."""

    name: str
    source: Source
    value: Any
    replaced: Source
    replaced_value: Any
    sensitive: bool = False

    def __str__(self) -> str:
        return (f"variable '{self.name}': {_shown(self.value, self.sensitive)} from {self.source} overrides "
                f"{_shown(self.replaced_value, self.sensitive)} from {self.replaced}")

    @property
    def notable(self) -> bool:
        """Worth a line in a plan: an environment variable or a var file overrides anything (the value
        does not appear in the command or the spec), or anything overrides a value other than the
        default (two sources disagree). An environment's or --var's value over a default is the point."""
        if self.value == self.replaced_value:
            return False
        return self.source.kind in (ENV_VAR, VAR_FILE) or self.replaced.kind != DEFAULT


@dataclass
class Resolution:
    """The outcome of resolving the declared variables from their layers."""

    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    overrides: list[Override] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _shown(value: Any, sensitive: bool) -> str:
    if sensitive:
        return "(sensitive)"
    text = repr(value)
    return text if len(text) <= 60 else text[:50] + "...'"


# --- reading the sources -------------------------------------------------------------------------

def parse_typed(raw: str, declared_type: str | None) -> Any:
    """Turn a command-line or environment string into the variable's declared type (bounded YAML)."""
    if declared_type in ("integer", "number", "boolean", "array", "object"):
        try:
            value, _ = parse_yaml(raw, "<value>")
        except YamlProblem:
            return raw
        return value
    return raw


def defaults_layer(declarations: Mapping[str, Any], locate: Callable[[tuple], Location | None]) -> Layer:
    layer = Layer(DEFAULT, "its default")
    for name, decl in declarations.items():
        if isinstance(decl, dict) and "default" in decl:
            layer.values[name] = decl["default"]
            where = locate(("variables", name, "default")) or locate(("variables", name))
            if where:
                layer.locations[name] = where
    return layer


def environment_layer(environment: str, values: Mapping[str, Any],
                      locations: Mapping[str, Location] | None = None) -> Layer:
    """The selected environment's `variables` (SPEC §9), typed as written in the spec."""
    return Layer(ENVIRONMENT, f"environment '{environment}'", dict(values), dict(locations or {}))


def environ_layer(environ: Mapping[str, str], declarations: Mapping[str, Any]) -> tuple[Layer, list[Problem], list[str]]:
    """DEPLOYER_VAR_<name> for each declared name (others are ignored). A TF_VAR_<name> alone gets a
    warning: deployer does not read Terraform's prefix."""
    layer = Layer(ENV_VAR, ENV_PREFIX + "{name}", raw=True)
    problems: list[Problem] = []
    warnings: list[str] = []
    for name in declarations:
        key = ENV_PREFIX + str(name)
        if key in environ:
            raw = environ[key]
            if len(raw.encode("utf-8", "surrogateescape")) > MAX_VALUE_BYTES:
                problems.append(Problem(Location(key, 0, 0), f"var.{name}",
                                        f"value is {len(raw)} characters; a variable value is limited to "
                                        f"{MAX_VALUE_BYTES} bytes (use a --var-file)"))
                continue
            layer.values[name] = raw
            layer.locations[name] = Location(key, 0, 0)
        elif TERRAFORM_PREFIX + str(name) in environ:
            warnings.append(f"{TERRAFORM_PREFIX}{name} is set but ignored: deployer reads {ENV_PREFIX}{name}")
    return layer, problems, warnings


def command_line_layers(declarations: Mapping[str, Any], cli_vars: list[str], var_files: list[str],
                        order: list[str] | None = None) -> tuple[list[Layer], list[Problem]]:
    """One layer per --var and --var-file, in command-line order (`order` lists "var" and "file" as they
    were given; without it every var file comes before every --var)."""
    order = order if order is not None and _fits(order, cli_vars, var_files) else \
        ["file"] * len(var_files) + ["var"] * len(cli_vars)
    vars_left, files_left = iter(cli_vars), iter(var_files)
    layers: list[Layer] = []
    problems: list[Problem] = []
    for kind in order:
        if kind == "var":
            layer, found = _var_layer(next(vars_left), declarations)
        else:
            layer, found = _file_layer(next(files_left), declarations)
        problems += found
        if layer is not None:
            layers.append(layer)
    return layers, problems


def _fits(order: list[str], cli_vars: list[str], var_files: list[str]) -> bool:
    return order.count("var") == len(cli_vars) and order.count("file") == len(var_files) and len(order) == len(
        cli_vars) + len(var_files)


def _var_layer(item: str, declarations: Mapping[str, Any]) -> tuple[Layer | None, list[Problem]]:
    name, sep, raw = item.partition("=")
    name = name.strip()
    if not sep or not name:
        hint = f" (did you mean --var {item}=VALUE?)" if item and not sep and _is_name(item) else ""
        return None, [Problem(COMMAND_LINE, f"var.{item[:40]}", "expected --var NAME=VALUE" + hint)]
    if len(raw.encode("utf-8", "surrogateescape")) > MAX_VALUE_BYTES:
        return None, [Problem(COMMAND_LINE, f"var.{name[:40]}", f"value is {len(raw)} characters; a variable value "
                                                                 f"is limited to {MAX_VALUE_BYTES} bytes (use a --var-file)")]
    if name not in declarations:
        return None, [Problem(COMMAND_LINE, f"var.{name[:40]}", undeclared(name, declarations))]
    return Layer(VAR, "--var", {name: raw}, {name: COMMAND_LINE}, raw=True), []


def _is_name(text: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text) is not None


def _file_layer(path: str, declarations: Mapping[str, Any]) -> tuple[Layer | None, list[Problem]]:
    """A var file: a YAML mapping NAME: VALUE, bounded in size and parsed like a spec file."""
    start = Location(path, 1, 1)
    real = os.path.realpath(path)
    if any(real == r or real.startswith(r + os.sep) for r in SYSTEM_ROOTS):
        return None, [Problem(start, "", f"{real} is a system file, not a variable file")]
    try:
        info = os.stat(path)
        size = info.st_size
        if not stat.S_ISREG(info.st_mode):
            return None, [Problem(start, "", "not a regular file: a variable file is read from disk (write the "
                                             "values to a file first)")]
        if size > MAX_VAR_FILE_BYTES:
            return None, [Problem(start, "", f"variable file is {size} bytes; variable files are limited to "
                                             f"{MAX_VAR_FILE_BYTES} bytes")]
        with open(path, "rb") as fh:
            data = fh.read(MAX_VAR_FILE_BYTES + 1)
    except OSError as exc:
        return None, [Problem(start, "", f"cannot read variable file: {exc.strerror or exc}")]
    if len(data) > MAX_VAR_FILE_BYTES:
        return None, [Problem(start, "", f"variable file is larger than {MAX_VAR_FILE_BYTES} bytes")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, [Problem(start, "", "variable file is not UTF-8 text")]
    try:
        values, marks = parse_yaml(text, path)
    except YamlProblem as exc:
        return None, [exc.problem]
    if values is None:
        return Layer(VAR_FILE, f"--var-file {path}"), []
    if not isinstance(values, dict):
        hcl = " (this looks like Terraform's NAME = VALUE; a var file is YAML: NAME: VALUE)" if \
            isinstance(values, str) and "=" in values else ""
        return None, [Problem(start, "", "a variable file must be a mapping of NAME: VALUE" + hcl)]
    layer = Layer(VAR_FILE, f"--var-file {path}")
    problems = []
    for name, value in values.items():
        where = marks.get((name,), start)
        if name not in declarations:
            problems.append(Problem(where, f"var.{name}", undeclared(str(name), declarations)))
            continue
        layer.values[name] = value
        layer.locations[name] = where
    return layer, problems


def undeclared(name: str, declarations: Iterable[str], where: str = "") -> str:
    """The message for a name that is not a declared variable: a suggestion and the declared ones."""
    from deployer.spec.suggest import did_you_mean

    declared = sorted(str(d) for d in declarations)
    listed = f"declared variables: {', '.join(declared)}" if declared else "the spec declares no variables"
    return f"undeclared variable '{name}'{where}{did_you_mean(name, declared)}; {listed}"


# --- resolving -----------------------------------------------------------------------------------

def resolve_layers(declarations: Mapping[str, Any], layers: list[Layer],
                   locate: Callable[[tuple], Location | None], name_sources: bool = True) -> Resolution:
    """Each declared variable's value from the highest layer that sets it (layers lowest first, the
    defaults included), typed and checked against its declaration (a problem names the source of the
    value when `name_sources`)."""
    out = Resolution()
    for name, decl in declarations.items():
        decl = decl if isinstance(decl, dict) else {}
        setters = [(layer, layer.values[name]) for layer in layers if name in layer.values]
        if not setters:
            out.problems.append(Problem(locate(("variables", name)), f"variables.{name}",
                                        f"variable '{name}' is required: pass --var {name}=VALUE, a --var-file "
                                        f"or {ENV_PREFIX}{name}"))
            continue
        typed = [(layer, parse_typed(v, decl.get("type")) if layer.raw and isinstance(v, str) else v)
                 for layer, v in setters]
        layer, value = typed[-1]
        source = layer.source(name)
        sensitive = bool(decl.get("sensitive"))
        out.problems += check_value(name, decl, value, locate(("variables", name)), source if name_sources else None)
        out.values[name] = value
        out.sources[name] = source
        if len(typed) > 1:
            below, before = typed[-2]
            out.overrides.append(Override(name, source, value, below.source(name), before, sensitive))
    return out


def check_value(name: str, decl: Mapping[str, Any], value: Any, where: Location | None,
                source: Source | None = None) -> list[Problem]:
    """A value checked against its declaration's JSON Schema keywords; a sensitive value is never shown."""
    schema = {k: decl[k] for k in SCHEMA_KEYWORDS if k in decl}
    if not schema:
        return []
    from deployer.spec.patterns import Draft202012Validator  # jsonschema only for declarations that need it

    problems = []
    origin = f" (from {source})" if source is not None and source.kind != DEFAULT else ""
    try:
        errors = list(Draft202012Validator(schema).iter_errors(value))
    except Exception as exc:  # noqa: BLE001 - a declaration the schema library cannot use (reported by validate)
        return [Problem(where, f"var.{name}", f"cannot check the value: {exc}")]
    for err in errors:
        shown = "(sensitive)" if decl.get("sensitive") else _shown(value, False)
        message = err.message if not decl.get("sensitive") else f"value does not satisfy '{err.validator}'"
        message = message.replace(repr(value), shown)
        if len(message) > 300:
            message = message[:260] + f"... ({len(message)} chars)"
        problems.append(Problem(where, f"var.{name}", f"invalid value {shown}{origin}: {message}"))
    return problems


def command_line_order(args: list[str], cli_vars: list[str], var_files: list[str]) -> list[str] | None:
    """The order --var and --var-file were given in a command's arguments ("var"/"file" per
    occurrence), or None when the arguments do not show it unambiguously (then var files come first)."""
    order: list[str] = []
    seen_vars: list[str] = []
    seen_files: list[str] = []
    it = iter(args)
    for arg in it:
        if arg == "--":
            break
        for flag, kind, bucket in (("--var-file", "file", seen_files), ("--var", "var", seen_vars)):
            if arg == flag:
                bucket.append(next(it, ""))
            elif arg.startswith(flag + "="):
                bucket.append(arg[len(flag) + 1:])
            else:
                continue
            order.append(kind)
            break
    return order if seen_vars == list(cli_vars) and seen_files == list(var_files) else None


# --- the former interface, used by the CloudFormation front end ----------------------------------

def gather_values(
    declarations: Mapping[str, Any],
    cli_vars: list[str],
    var_files: list[str],
    environ: Mapping[str, str] | None = None,
    order: list[str] | None = None,
) -> tuple[dict[str, Any], list[Problem]]:
    """The value each source gives, by SPEC §2's precedence (environment variables, then var files and
    --var in command-line order; later wins), typed by declaration; defaults are not applied."""
    environ = os.environ if environ is None else environ
    env_layer, problems, _ = environ_layer(environ, declarations)
    layers, found = command_line_layers(declarations, cli_vars, var_files, order)
    values: dict[str, Any] = {}
    for layer in (env_layer, *layers):
        for name, value in layer.values.items():
            decl = declarations.get(name)
            values[name] = parse_typed(value, _type_of(decl)) if layer.raw and isinstance(value, str) else value
    return values, problems + found


def resolve(
    declarations: Mapping[str, Any],
    given: Mapping[str, Any],
    locate,
) -> tuple[dict[str, Any], list[Problem]]:
    """Apply defaults, report missing required variables, and check each value against its declaration."""
    given_layer = Layer(VAR, "--var", dict(given))
    out = resolve_layers(declarations, [defaults_layer(declarations, lambda p: None), given_layer], locate,
                         name_sources=False)
    return out.values, out.problems


def _type_of(decl: Any) -> str | None:
    return decl.get("type") if isinstance(decl, dict) else None
