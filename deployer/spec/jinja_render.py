"""The Jinja2 side of deployer.spec.template: the bounded sandbox, undefined names explained, the
template tree instrumented (loops counted, literal text marked with its source line), and template
errors turned into one line at their source line. Imported only when a file is a template."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace

from deployer.errors import Location, Problem
from deployer.spec.suggest import did_you_mean
from deployer.spec.template import (
    _LINE,
    MAX_FORMAT_WIDTH,
    MAX_INT_BITS,
    MAX_RENDERED_BYTES,
    Budget,
    Rendered,
    TemplateLimit,
    Values,
    Variables,
    _marked,
    unmark,
)
from deployer.spec.yamlmarks import YamlProblem

# --- the sandbox ---------------------------------------------------------------------------------

MAX_STRING = 1_000_000  # the longest string an operator, method or filter may build
MAX_LIST = 100_000  # the longest list (Jinja's own bound on range)
MAX_VALUES = 200_000  # the values a list or map may stand for, shared parts counted each time (as YAML)
_WIDTH = re.compile(r"[0-9]{7,}")  # a width or precision of a million or more in a format string
_NESTED_FIELD = re.compile(r"\{[^{}]*\{|\*")  # a width taken from the arguments
_WIDTH_METHODS = {"center", "ljust", "rjust", "zfill", "expandtabs"}


def _too_long(n: int, limit: int = MAX_STRING) -> TemplateLimit:
    return TemplateLimit(f"the result would hold {n} items (limit {limit})")


def _check_format(fmt: Any, args: Iterable[Any]) -> None:
    if not isinstance(fmt, str):
        return
    if _WIDTH.search(fmt) or (_NESTED_FIELD.search(fmt) and any(
            isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_FORMAT_WIDTH for a in args)):
        raise TemplateLimit(f"a format width or precision over {MAX_FORMAT_WIDTH}")


def _replace_size(s: Any, old: Any, new: Any) -> int:
    if not (isinstance(s, str) and isinstance(old, str) and isinstance(new, str)):
        return 0
    count = s.count(old) if old else len(s) + 1
    return len(s) + count * max(0, len(new) - len(old))


class Sizes:
    """How many values each list or map a render holds stands for, shared parts counted each time they
    appear (a list of the same list twice, forty times over, is 2**40 values to write): measured once
    per container and remembered, so building and checking stay linear."""

    def __init__(self) -> None:
        self._known: dict[int, tuple[Any, int]] = {}

    def of(self, value: Any) -> int:
        if not isinstance(value, list | tuple | dict):
            return 1
        hit = self._known.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        total = 1
        for child in value.values() if isinstance(value, dict) else value:
            total += self.of(child)
            if total > MAX_VALUES:
                raise TemplateLimit(f"a list or map that stands for more than {MAX_VALUES} values")
        self._known[id(value)] = (value, total)  # the value is kept, so its id is not reused
        return total

    def check(self, value: Any) -> Any:
        """The value, if it is within every bound."""
        if isinstance(value, str) and len(value) > MAX_STRING:
            raise _too_long(len(value))
        if isinstance(value, list | tuple) and len(value) > MAX_LIST:
            raise _too_long(len(value), MAX_LIST)
        self.of(value)
        return value


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's sandbox (lists and maps immutable) with every operation that could take unbounded
    time or memory bounded."""

    intercepted_binops = frozenset(["*", "**", "%", "+"])

    def __init__(self, budget: Budget, **options: Any):
        super().__init__(**options)
        self.budget = budget
        self.sizes = Sizes()

    def call_binop(self, context, operator, left, right):
        self.budget.tick()
        numbers = all(isinstance(x, int) and not isinstance(x, bool) for x in (left, right))
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(n, int) and n > 0:
                    limit = MAX_STRING if isinstance(seq, str) else MAX_LIST
                    if len(seq) * n > limit:
                        raise _too_long(len(seq) * n, limit)
            if numbers and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise TemplateLimit(f"'*' would build an integer over {MAX_INT_BITS} bits")
        if operator == "**" and numbers and right > 0 and abs(left) > 1 and right * left.bit_length() > MAX_INT_BITS:
            raise TemplateLimit(f"'**' would build an integer over {MAX_INT_BITS} bits")
        if operator == "%" and isinstance(left, str):
            _check_format(left, right if isinstance(right, tuple) else (right,))
        if operator == "+" and isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
            limit = MAX_STRING if isinstance(left, str) else MAX_LIST
            if len(left) + len(right) > limit:
                raise _too_long(len(left) + len(right), limit)
        return self.sizes.check(super().call_binop(context, operator, left, right))

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        __self.budget.tick()
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if isinstance(owner, str):
            if name in _WIDTH_METHODS and any(isinstance(a, int) and a > MAX_STRING for a in args):
                raise _too_long(max(a for a in args if isinstance(a, int)))
            if name == "replace" and len(args) >= 2 and _replace_size(owner, args[0], args[1]) > MAX_STRING:
                raise _too_long(_replace_size(owner, args[0], args[1]))
            if name == "join" and args and isinstance(args[0], list | tuple):
                total = sum(len(x) for x in args[0] if isinstance(x, str))
                if total > MAX_STRING:
                    raise _too_long(total)
        for a in (*args, *kwargs.values()):
            __self.sizes.check(a)
        return __self.sizes.check(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value):
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        template_text = value.__self__

        @functools.wraps(wrapped)
        def checked(*args: Any, **kwargs: Any) -> str:
            _check_format(template_text, (*args, *kwargs.values(),
                                          *(v for a in args if isinstance(a, dict) for v in a.values())))
            return self.sizes.check(wrapped(*args, **kwargs))

        return checked

    def getattr(self, obj, attribute):
        self.budget.tick()
        if isinstance(obj, Variables) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        self.budget.tick()
        return super().getitem(obj, argument)

    def built(self, value: Any) -> Any:
        """A list or map a template writes (`[a, b]`, `{"k": v}`), checked as it is made."""
        self.budget.tick()
        return self.sizes.check(value)


def _bounded_filter(env: _Sandbox, name: str, fn: Callable) -> Callable:
    """A filter that ticks the budget and refuses arguments that would build an oversized result."""
    passes_state = getattr(fn, "jinja_pass_arg", None) is not None  # a context or environment comes first

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        env.budget.tick()
        plain = list(args[1:] if passes_state else args) + list(kwargs.values())
        for a in plain:
            if isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_STRING:
                raise TemplateLimit(f"filter '{name}': argument {a} is too large")
            env.sizes.check(a)
        if name == "format" and plain:
            _check_format(plain[0], plain[1:])
        if name == "join" and plain and isinstance(plain[0], list | tuple):
            total = sum(len(x) for x in plain[0] if isinstance(x, str))
            if total > MAX_STRING:
                raise _too_long(total)
        if name == "replace" and len(plain) >= 3 and _replace_size(*plain[:3]) > MAX_STRING:
            raise _too_long(_replace_size(*plain[:3]))
        if name == "indent" and plain and isinstance(plain[0], str):
            width = plain[1] if len(plain) > 1 else kwargs.get("width", 4)
            pad = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
            if len(plain[0]) + (plain[0].count("\n") + 1) * pad > MAX_STRING:
                raise _too_long(len(plain[0]) + (plain[0].count("\n") + 1) * pad)
        return env.sizes.check(fn(*args, **kwargs))

    return run


def _budgeted_range(budget: Budget) -> Callable:
    def budgeted_range(*args: Any) -> Iterator[int]:
        if any(isinstance(a, jinja2.Undefined) for a in args):
            str(args[0])  # strict: the undefined error; lenient: an empty range
            return iter(())
        r = range(*args)
        if len(r) > MAX_LIST:
            raise TemplateLimit(f"range of {len(r)} numbers (limit {MAX_LIST})")
        return _ticking(budget, r)
    return budgeted_range


def _ticking(budget: Budget, iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        budget.tick()
        yield item


def _namespace_class(env: _Sandbox) -> type:
    class BoundedNamespace(Namespace):
        def __setitem__(self, name: str, value: Any) -> None:
            env.budget.tick()
            env.sizes.check(value)
            Namespace.__setitem__(self, name, value)

    return BoundedNamespace


def _unescaped(value: Any) -> str:
    """Deployer text as the text it stands for (`$${` is `${`): what an encoding filter encodes."""
    return str(value).replace("$${", "${")


def _b64encode(value: Any) -> str:
    import base64

    return base64.b64encode(_unescaped(value).encode()).decode()


def _encoding(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def run(value: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(_unescaped(value) if isinstance(value, str) else value, *args, **kwargs)
    return run


class _Lenient(jinja2.ChainableUndefined):
    """The first pass's undefined: anything done with it is itself, so a template whose variables are
    not known yet still renders (to read its declarations)."""

    def _self(self, *args: Any, **kwargs: Any) -> _Lenient:
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _self
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __pos__ = __neg__ = __pow__ = __rpow__ = _self
    __call__ = _self

    def _false(self, other: Any) -> bool:
        return False

    __lt__ = __le__ = __gt__ = __ge__ = _false

    def __int__(self) -> int:
        return 0

    def __float__(self) -> float:
        return 0.0


# --- undefined names -----------------------------------------------------------------------------

_TYPE_WORDS = {"dict": "a mapping", "str": "a string", "int": "an integer", "float": "a number", "list": "a list",
               "tuple": "a list", "bool": "a boolean", "NoneType": "null", Variables.__name__: "var"}


def _describe(obj: Any) -> str:
    return _TYPE_WORDS.get(type(obj).__name__, "this value")


def _strict_undefined(context_names: list[str], declared: list[str]) -> type:
    declared_list = (f"declared variables: {', '.join(sorted(declared))}" if declared
                     else "no variables are declared")

    class Strict(jinja2.StrictUndefined):
        @property
        def _undefined_message(self) -> str:
            name, obj = self._undefined_name, self._undefined_obj
            if self._undefined_hint or name is None:
                return super()._undefined_message
            if isinstance(obj, Variables):
                return (f"undefined variable 'var.{name}'" + did_you_mean(str(name), declared)
                        + f"; {declared_list}")
            if obj is jinja2.utils.missing:
                if name in declared:
                    return f"undefined name '{name}': '{name}' is a variable, write var.{name}"
                return (f"undefined name '{name}'" + did_you_mean(str(name), [*context_names, *declared])
                        + f" (a template sees {', '.join(context_names)})")
            keys = [str(k) for k in obj] if isinstance(obj, dict) else []
            listed = f" (its keys: {', '.join(keys[:20])})" if keys else ""
            return f"{_describe(obj)} has no attribute '{name}'" + did_you_mean(str(name), keys) + listed

    return Strict


# --- the template as a tree: loops counted, literal text marked with its line --------------------

_BUFFERED = (nodes.Macro, nodes.CallBlock, nodes.FilterBlock, nodes.AssignBlock)
LOOP_GLOBAL = "_deployer_loop"
BUILD_GLOBAL = "_deployer_built"


def _call(name: str, arg: nodes.Expr) -> nodes.Call:
    return nodes.Call(nodes.Name(name, "load", lineno=arg.lineno), [arg], [], None, None, lineno=arg.lineno)


def _instrument(node: nodes.Node, buffered: bool = False) -> None:
    """Count every loop iteration, check every list and map a template writes as it is made, and mark
    literal text written straight to the output (not captured by a macro, call, filter or set block,
    whose text stays as written) with its source line."""
    if isinstance(node, nodes.For):
        node.iter = _call(LOOP_GLOBAL, node.iter)
    ours = isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name in (
        LOOP_GLOBAL, BUILD_GLOBAL)
    for field_name in () if ours else node.fields:
        child = getattr(node, field_name, None)
        if _is_literal_container(child):
            setattr(node, field_name, _call(BUILD_GLOBAL, child))
        elif isinstance(child, list):
            setattr(node, field_name, [_call(BUILD_GLOBAL, c) if _is_literal_container(c) else c for c in child])
    inner = buffered or isinstance(node, _BUFFERED)
    if isinstance(node, nodes.Output) and not buffered:
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                child.data = _marked(child.data, child.lineno)
    for child in node.iter_child_nodes():
        _instrument(child, inner)


def _is_literal_container(node: Any) -> bool:
    return isinstance(node, nodes.List | nodes.Dict) or (isinstance(node, nodes.Tuple) and node.ctx == "load")


def environment(budget: Budget, strict: bool, context_names: list[str], declared: list[str]) -> _Sandbox:
    env = _Sandbox(
        budget,
        undefined=_strict_undefined(context_names, declared) if strict else _Lenient,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.filters["b64encode"] = _b64encode  # CloudFormation's Fn::Base64 (EC2 UserData)
    env.filters["urlencode"] = _encoding(env.filters["urlencode"])
    env.filters = {name: _bounded_filter(env, name, fn) for name, fn in env.filters.items()}
    env.globals.clear()
    env.globals.update({"range": _budgeted_range(budget), "dict": dict, "namespace": _namespace_class(env),
                        LOOP_GLOBAL: functools.partial(_ticking, budget), BUILD_GLOBAL: env.built})
    return env


def render_template(text: str, filename: str, context: Mapping[str, Any], budget: Budget,
                    strict: bool = True) -> Rendered:
    """Render one template (deployer.spec.template.render)."""
    declared = list(context.get("var") or {})
    names = [n for n in context if not n.startswith("_")]
    env = environment(budget, strict, names, declared)
    values = Values(budget)
    env.finalize = values.placeholder
    out: list[str] = []
    size = 0
    budget.start()
    try:
        tree = env.parse(text, filename=filename)
        _instrument(tree)
        template = env.template_class.from_code(env, env.compile(tree, filename=filename), env.make_globals(None), None)
        for chunk in template.root_render_func(template.new_context(dict(context))):
            size += len(chunk)
            if size > MAX_RENDERED_BYTES * 12:  # line markers included (up to 9 per line); exact bound below
                raise TemplateLimit(f"the rendered file is larger than {MAX_RENDERED_BYTES} bytes")
            out.append(chunk)
            budget.tick()
    except jinja2.TemplateSyntaxError as exc:
        raise YamlProblem(Problem(Location(filename, exc.lineno or 1, 1), "", _syntax_message(exc))) from None
    except Exception as exc:  # an error in a template expression or a budget: at its template line
        raise _problem(env, exc, filename, out) from None
    finally:
        budget.stop()
    rendered, lines = unmark("".join(out))
    if len(rendered) > MAX_RENDERED_BYTES:  # at the line that crossed the limit
        crossing = lines[min(rendered.count("\n", 0, MAX_RENDERED_BYTES), len(lines) - 1)]
        raise YamlProblem(Problem(Location(filename, crossing, 1), "",
                                  f"template error: the rendered file is larger than {MAX_RENDERED_BYTES} bytes"))
    return Rendered(rendered, lines, values)


def _last_line(out: list[str]) -> int:
    """The source line of the last literal text written (where a budget hit between two chunks)."""
    for chunk in reversed(out):
        found = _LINE.findall(chunk)
        if found:
            return int(found[-1])
    return 1


def _syntax_message(exc: jinja2.TemplateSyntaxError) -> str:
    message = exc.message or "syntax error"
    if "'$'" in message or "unexpected char '$'" in message:
        message += " (inside {{ }} write var.NAME; ${var.NAME} is written outside {{ }})"
    return f"template error: {message}"


def template_line(exc: BaseException, filename: str) -> int | None:
    """The template line an exception was raised at (Jinja rewrites tracebacks to template lines)."""
    lineno = getattr(exc, "lineno", None)
    if lineno:
        return lineno
    tb = exc.__traceback__
    found = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            found = tb.tb_lineno
        tb = tb.tb_next
    return found


_PY_WORDS = {"'int'": "an integer", "'str'": "a string", "'float'": "a number", "'list'": "a list",
             "'dict'": "a mapping", "'NoneType'": "null", "'bool'": "a boolean", "'tuple'": "a list"}
_PY_WORD = re.compile("|".join(re.escape(k) for k in _PY_WORDS))


def _problem(env: _Sandbox, exc: Exception, filename: str, out: list[str]) -> YamlProblem:
    try:  # Jinja's traceback rewrite: frames at template lines
        env.handle_exception()
    except Exception as rewritten:  # noqa: BLE001 - the same error, with template frames
        exc = rewritten
    line = template_line(exc, filename) or _last_line(out)
    if isinstance(exc, TemplateLimit):
        message = str(exc)
    elif isinstance(exc, jinja2.exceptions.SecurityError):
        message = f"not allowed: {exc}"
    elif isinstance(exc, jinja2.UndefinedError):
        message = exc.message or "undefined name"
    elif isinstance(exc, RecursionError | MemoryError | OverflowError):
        message = "the template is too large or too deep for a spec"
    else:
        message = _PY_WORD.sub(lambda m: _PY_WORDS[m.group()], str(exc)) or "cannot evaluate this expression"
    return YamlProblem(Problem(Location(filename, line, 1), "", f"template error: {message}"))
