"""`deployer apply` and `deployer destroy` as the CLI runs them (deployer/cli.py: a session, the lock,
the plan, the apply with its progress lines), with each phase timed to the millisecond — the CLI
prints the apply phase to a tenth of a second only:

    python -m tests.perf.phases apply|destroy PATH --state-dir DIR [--parallelism N]

prints, last, one JSON line: {"plan": s, "apply": s, "command": s, "steps": N} (command: from the start of
this process's main to its end, after the lock is released and the journal folded).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    parser = argparse.ArgumentParser(prog="python -m tests.perf.phases")
    parser.add_argument("command", choices=["apply", "destroy"])
    parser.add_argument("path")
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--parallelism", type=int, default=10)
    args = parser.parse_args(argv)

    from deployer.render.text import render_plan
    from deployer.runtime import Options
    from deployer.workflow import Session, apply_progress, make_plan, refuse_blocked

    session = Session.open(Options(path=args.path, state_dir=args.state_dir))
    with session.locked(args.command):
        t0 = time.perf_counter()
        applying = args.command == "apply"
        planned = make_plan(session, destroy=not applying, applying=applying)
        sys.stdout.write(render_plan(planned))  # the plan and the progress lines go out as the CLI's do
        refuse_blocked(planned)
        t1 = time.perf_counter()
        apply_progress(session, planned, args.parallelism, True, fresh_reads=applying)
        t2 = time.perf_counter()
    done = time.perf_counter()
    steps = sum(1 for s in planned.steps if s.changing)
    print(json.dumps({"plan": t1 - t0, "apply": t2 - t1, "command": done - started, "steps": steps}))
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    os._exit(status)  # as the deployer program ends (deployer/cli.py `run`): without the interpreter's teardown
