"""secrets: a registered value is masked in every form a template filter, an encoder or a writer can give
it, each field of an object on its own; values too short to hide are named for the loaders to refuse,
never shown; and the masking never breaks the JSON documents it passes through."""

from __future__ import annotations

import base64
import html
import json
import time
import urllib.parse

import jinja2
import pytest

from deployer import secrets
from deployer.errors import SpecError
from deployer.spec.load import load_stack

PW = "Hunter2-s3cret/+&<'é x"
MASK = secrets.MASK


def b64(text: str, urlsafe: bool = False, pad: bool = True) -> str:
    out = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(text.encode()).decode()
    return out if pad else out.rstrip("=")


def jinja(template: str, **context) -> str:
    return jinja2.Environment().from_string(template).render(**context)


FORMS = {
    "as given": PW,
    "upper": PW.upper(),
    "lower": PW.lower(),
    "title": PW.title(),
    "Jinja title (words split at '-', not after digits)": jinja("{{ v | title }}", v=PW),
    "Jinja title of a hex value": jinja("{{ v | title }}", v="pw-f14215a5b5a7475f9faa"),
    "capitalize": PW.capitalize(),
    "swapcase": PW.swapcase(),
    "base64": b64(PW),
    "base64 unpadded": b64(PW, pad=False),
    "urlsafe base64": b64(PW, urlsafe=True),
    "urlsafe base64 unpadded": b64(PW, urlsafe=True, pad=False),
    "base64 of upper": b64(PW.upper()),
    "base64 of the JSON literal (tojson | b64encode)": b64(json.dumps(PW)),
    "JSON-escaped": json.dumps(PW)[1:-1],
    "JSON-escaped, non-ASCII kept": json.dumps(PW, ensure_ascii=False)[1:-1],
    "Jinja tojson (HTML-safe JSON)": jinja("{{ v | tojson }}", v=PW)[1:-1],
    "JSON in a JSON string": json.dumps(json.dumps(PW))[3:-3],
    "upper, JSON-escaped": json.dumps(PW.upper())[1:-1],
    "URL-encoded": urllib.parse.quote(PW, safe=""),
    "URL-encoded, form style": urllib.parse.quote_plus(PW),
    "URL-encoded, lower-case escapes": urllib.parse.quote(PW, safe="").lower().replace("hunter", "Hunter"),
    "Jinja urlencode": jinja("{{ v | urlencode }}", v=PW),
    "HTML-escaped": html.escape(PW),
    "Jinja escape": str(jinja2.Environment(autoescape=True).from_string("{{ v }}").render(v=PW)),
    "Python repr (a KeyError's message)": str(KeyError(PW)).strip("'\""),
    "reversed": PW[::-1],
    "whitespace collapsed": " ".join(PW.split()),
}


@pytest.mark.parametrize("name", sorted(FORMS))
def test_every_form_of_a_value_is_masked(name):
    secrets.register(PW)
    secrets.register("pw-f14215a5b5a7475f9faa")
    text = f"before [{FORMS[name]}] after"
    assert secrets.is_sensitive(text)
    assert secrets.redact(text) == f"before [{MASK}] after", name


def test_a_line_of_a_multi_line_value_is_masked_on_its_own():
    key = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END KEY-----"
    secrets.register(key)
    shown = "\n".join("    " + line for line in key.splitlines())  # re-indented, as a plan shows a value
    assert "MIIEvQIBADANBgkq" not in secrets.redact(shown) and "BKcwggSjAgEAAoIBAQC7" not in secrets.redact(shown)


def test_every_field_and_item_of_an_object_is_masked_but_not_its_keys():
    db = {"username": "app-user", "password": PW, "pin": 918273, "nested": {"hosts": ["db-1.internal", "db-2.local"]}}
    secrets.register(db, fields=True)
    line = "user app-user connects to db-2.local with pin 918273 as APP-USER"
    assert secrets.redact(line) == f"user {MASK} connects to {MASK} with pin {MASK} as {MASK}"
    assert secrets.redact('{"username": 1, "hosts": 2}') == '{"username": 1, "hosts": 2}'


@pytest.mark.parametrize("render", [
    pytest.param(lambda v: b64(jinja("{{ v | tojson }}", v=v)), id="tojson | b64encode"),
    pytest.param(lambda v: b64(str(v)), id="b64encode of the object (its Python text)"),
    pytest.param(lambda v: b64(json.dumps(v)), id="base64 of its JSON"),
    pytest.param(lambda v: b64(json.dumps(v, separators=(",", ":")), urlsafe=True, pad=False), id="compact"),
])
def test_a_whole_object_encoded_at_once_is_masked(render):
    db = {"username": "app-user", "password": PW, "port": 5432}
    secrets.register(db, fields=True)
    assert secrets.redact(f"x {render(db)} y") == f"x {MASK} y"


def test_a_property_value_registers_as_a_whole_not_by_its_fields():
    """The planner registers a sensitive property's value: its tag keys and other plain words stay readable."""
    secrets.register([{"Key": "user", "Value": PW}])
    assert secrets.redact("user tag Key") == "user tag Key"
    assert secrets.redact(json.dumps([{"Key": "user", "Value": PW}])) == MASK


def test_a_number_is_masked_where_it_stands_alone_never_inside_a_longer_number():
    secrets.register({"pin": 12345678}, fields=True)
    assert secrets.redact("pin=12345678; arn:aws:iam::123456789012:root; t=2026123456789") == \
        f"pin={MASK}; arn:aws:iam::123456789012:root; t=2026123456789"
    assert secrets.redact("v12345678x") == f"v{MASK}x"


def test_a_short_value_counts_only_as_a_whole_word():
    """Under 8 characters a form occurs by chance inside hex ids and digests: it is masked only where no
    letter or digit touches it, so the state's ids and digests stay intact."""
    secrets.register({"pin": 4711, "key": "c0ffee"}, fields=True)
    assert secrets.redact("pin 4711, key=c0ffee; vpc-0a4711c0ffee9; sha256:e4711f") == \
        f"pin {MASK}, key={MASK}; vpc-0a4711c0ffee9; sha256:e4711f"


def test_case_changes_count_only_as_a_whole_word():
    """A case-changed form is matched only where no letter or digit touches it, so a secret that happens
    to be a word does not eat the identifiers that contain it; the value as given is matched anywhere."""
    secrets.register("root-key")
    assert secrets.redact("ROOT-KEY and Root-Key; ROOT-KEYS; xroot-keyx") == f"{MASK} and {MASK}; ROOT-KEYS; x{MASK}x"
    assert secrets.redact("DB_ROOT-KEY") == f"DB_{MASK}"


@pytest.mark.parametrize("value", ["abc", "", 7, 42, 3.5, True, False, None])
def test_values_too_short_to_hide_are_not_registered(value):
    secrets.register(value)
    assert secrets.redact("abc 7 42 3.5 True true False None") == "abc 7 42 3.5 True true False None"


@pytest.mark.parametrize("value,messages", [
    ("abc", ["a sensitive value is shorter than 4 characters, too short to be hidden in output"]),
    (42, ["a sensitive value is shorter than 4 characters, too short to be hidden in output"]),
    (True, ["a sensitive value is a boolean, which cannot be hidden in output"]),
    ({"user": "sa", "ssl": False, "pw": PW, "empty": "", "none": None, "hosts": ["ok-host", "h2"]},
     ["field 'user' of a sensitive value is shorter than 4 characters, too short to be hidden in output; keep "
      "it in a variable that is not sensitive",
      "field 'ssl' of a sensitive value is a boolean, which cannot be hidden in output; keep it in a variable "
      "that is not sensitive",
      "field 'hosts[1]' of a sensitive value is shorter than 4 characters, too short to be hidden in output; "
      "keep it in a variable that is not sensitive"]),
    ("abcd", []), (1234, []), ("", []), (None, []), ([], []),
])
def test_unhideable_names_each_part_that_cannot_be_hidden_never_its_value(value, messages):
    assert secrets.unhideable(value) == messages


def test_a_short_value_equal_to_its_declared_default_is_public():
    assert secrets.unhideable(7, {"type": "integer", "default": 7}) == []
    assert secrets.unhideable(8, {"type": "integer", "default": 7}) != []


def test_the_loader_refuses_a_sensitive_variable_too_short_to_hide(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("stack: demo\nvariables:\n  pin: {type: integer, sensitive: true}\n"
                    "  db: {type: object, sensitive: true}\nresources: {}\n")
    with pytest.raises(SpecError) as exc:
        load_stack(str(spec), ["pin=42", "db={user: sa, password: long-enough}"], environ={})
    lines = exc.value.lines()
    assert [line.split(": ", 2)[1] for line in lines] == ["var.pin", "var.db"]
    assert "shorter than 4 characters" in lines[0] and "field 'user'" in lines[1]
    assert not [line for line in lines if "42" in line.split(":", 3)[-1] or " sa" in line]


def test_a_whole_list_or_object_in_a_json_document_becomes_a_quoted_mask():
    secrets.register(["first-secret-item", "second-secret-item"])
    secrets.register({"k": "object-secret-value"})
    doc = {"a": ["first-secret-item", "second-secret-item"], "b": {"k": "object-secret-value"}}
    assert json.loads(secrets.redact(json.dumps(doc))) == {"a": MASK, "b": MASK}


def test_redaction_keeps_json_documents_valid():
    secrets.register({"password": 'a"quoted\\value', "token": "tok-123456789", "pin": 77777}, fields=True)
    doc = {"after": 'a"quoted\\value', "note": "pin 77777 of tok-123456789", "nested": json.dumps({"p": 'a"quoted\\value'}),
           "count": 77777}
    text = secrets.redact(json.dumps(doc, indent=2))
    assert json.loads(text)["after"] == MASK and json.loads(text)["nested"] == json.dumps({"p": MASK})
    assert "quoted" not in text and "tok-123" not in text


def test_the_longest_form_wins_so_no_escape_is_left_behind():
    secrets.register('x"y-secret')
    assert secrets.redact(json.dumps({"v": 'x"y-secret'})) == '{"v": "(sensitive)"}'


def test_a_traceback_is_redacted_with_its_chained_causes_and_notes():
    secrets.register(PW)
    try:
        try:
            raise KeyError(PW)
        except KeyError as inner:
            err = RuntimeError(f"while reading {PW.upper()}")
            err.add_note(f"value was {b64(PW)}")
            raise err from inner
    except RuntimeError as exc:
        text = secrets.redacted_traceback(exc)
    assert "Traceback (most recent call last)" in text and "KeyError" in text and "RuntimeError" in text
    assert not [form for form in FORMS.values() if form in text]
    assert text.count(MASK) >= 3


def test_clear_forgets_every_value():
    secrets.register(PW)
    secrets.clear()
    assert secrets.redact(PW) == PW and not secrets.is_sensitive(PW)


def test_many_values_over_a_large_text_stay_fast():
    for i in range(50):
        secrets.register({"user": f"user-{i:04d}-x", "password": f"pw-{i:04d}-{PW}"}, fields=True)
    text = ("ordinary plan text with a user-0042-x in it; " * 20_000)
    start = time.process_time()
    redacted = secrets.redact(text)
    assert time.process_time() - start < 2
    assert "user-0042-x" not in redacted and redacted.count(MASK) == 20_000
