"""The live progress table on a terminal shorter than the plan keeps every running step in view."""

from __future__ import annotations

import io

from deployer.apply import Event
from deployer.render.progress import Progress, visible_rows


def rows(statuses: dict[str, str]) -> dict[str, dict]:
    return {n: {"status": s, "verb": "creating", "start": None, "elapsed": None, "detail": ""}
            for n, s in statuses.items()}


def test_running_steps_stay_visible_when_the_table_is_taller_than_the_terminal():
    statuses = {f"Done{i}": "done" for i in range(30)} | {"Busy": "running"} | \
        {f"Wait{i}": "waiting" for i in range(30)} | {"Broken": "failed"}
    shown, hidden = visible_rows(rows(statuses), height=10)
    names = [n for n, _ in shown]
    assert "Busy" in names and "Broken" in names and len(names) == 7
    assert sum(hidden.values()) == len(statuses) - 7 and set(hidden) <= {"done", "waiting"}


def test_a_short_table_is_shown_whole():
    statuses = {"A": "done", "B": "running"}
    assert visible_rows(rows(statuses), height=40) == (list(rows(statuses).items()), {})
    assert visible_rows(rows(statuses), height=None)[1] == {}


def test_lines_for_a_log_when_not_a_terminal():
    out = io.StringIO()
    with Progress(stream=out, live=False) as progress:
        progress(Event("Q", "running", "creating"))
        progress(Event("Q", "done", "creating", 0.25))
    text = out.getvalue()
    assert "Q: creating..." in text and "Q: done (creating, 0.2s)" in text and "Slowest steps: Q 0.2s" in text
