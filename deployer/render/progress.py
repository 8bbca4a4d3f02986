"""Apply/destroy progress: a live table of steps on a terminal, timestamped lines otherwise (CI logs),
and a final summary with durations either way."""

from __future__ import annotations

import sys
import threading
import time

import click

from deployer import secrets
from deployer.apply import Event

ICONS = {"waiting": "·", "running": "…", "done": "✓", "failed": "✗", "rolling-back": "↶", "rolled-back": "↶",
         "skipped": "-"}


ACTIVE = ("running", "failed", "rolling-back")  # always on screen, however many steps there are


def visible_rows(rows: dict[str, dict], height: int | None) -> tuple[list[tuple[str, dict]], dict[str, int]]:
    """The rows a terminal of `height` lines shows: every active step, then the latest of the rest;
    and a count by status of those left out (so a tall plan never hides what is running)."""
    items = list(rows.items())
    room = None if height is None else max(height - 3, 1)  # the header, the count line, the cursor
    if room is None or len(items) <= room:
        return items, {}
    active = [(n, r) for n, r in items if r["status"] in ACTIVE]
    rest = [(n, r) for n, r in items if r["status"] not in ACTIVE]
    keep = max(room - len(active), 0)
    shown_rest = rest[-keep:] if keep else []
    hidden: dict[str, int] = {}
    for _, r in rest[: len(rest) - len(shown_rest)]:
        hidden[r["status"]] = hidden.get(r["status"], 0) + 1
    shown = {n for n, _ in active} | {n for n, _ in shown_rest}
    return [(n, r) for n, r in items if n in shown], hidden


class Progress:
    """Receives step events from the applier (from worker threads)."""

    def __init__(self, stream=None, live: bool | None = None, colour: bool = False):
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self.colour = colour
        self.lock = threading.Lock()
        self.rows: dict[str, dict] = {}
        self._live = None

    def __enter__(self) -> Progress:
        if self.live:
            from rich.console import Console
            from rich.live import Live

            self._live = Live(self._table(), console=Console(file=self.stream, no_color=not self.colour),
                              refresh_per_second=8, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.__exit__(*exc)
            self._live = None
        self.summary()

    def __call__(self, e: Event) -> None:
        with self.lock:
            row = self.rows.setdefault(e.name, {"status": "waiting", "verb": e.verb, "start": None, "elapsed": None,
                                                "detail": ""})
            row["status"] = e.status
            if e.status == "running":
                row["start"], row["verb"] = time.monotonic(), e.verb
            if e.status in ("done", "failed") and e.elapsed:
                row["elapsed"] = e.elapsed
            if e.detail:
                row["detail"] = e.detail
        if self._live is not None:
            self._live.update(self._table())
        else:
            self._line(e)

    def _line(self, e: Event) -> None:
        stamp = time.strftime("%H:%M:%S")
        if e.status == "running":
            text = f"{stamp} {e.name}: {e.verb}..."
        elif e.status == "done":
            text = f"{stamp} {e.name}: done ({e.verb}, {e.elapsed:.1f}s)"
        elif e.status == "failed":
            text = f"{stamp} {e.name}: FAILED ({e.verb}): {e.detail}"
        else:
            text = f"{stamp} {e.name}: {e.status}"
        click.echo(secrets.redact(text), file=self.stream)

    def _table(self):
        from rich.table import Table

        table = Table(show_header=True, header_style="bold", box=None)
        for col in ("", "resource", "step", "status", "time"):
            table.add_column(col)
        now = time.monotonic()
        height = self._live.console.size.height if self._live is not None else None
        with self.lock:
            rows, hidden = visible_rows(self.rows, height)
            for name, row in rows:
                elapsed = row["elapsed"] if row["elapsed"] is not None else (
                    now - row["start"] if row["start"] and row["status"] == "running" else None)
                table.add_row(ICONS.get(row["status"], " "), name, row["verb"], row["status"],
                              f"{elapsed:.1f}s" if elapsed is not None else "",)
        if hidden:
            table.add_row("", ", ".join(f"{n} {status}" for status, n in sorted(hidden.items())), "", "", "")
        return table

    def summary(self) -> None:
        with self.lock:
            done = {n: r for n, r in self.rows.items() if r["elapsed"] is not None}
        if not done:
            return
        slowest = sorted(done.items(), key=lambda kv: -kv[1]["elapsed"])[:5]
        parts = ", ".join(f"{n} {r['elapsed']:.1f}s" for n, r in slowest)
        click.echo(f"Slowest steps: {parts}", file=self.stream)
