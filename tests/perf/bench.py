"""The benchmark suite of issue 15: deployer against a hand-written threaded boto3 floor
(tests/perf/floor.py) on one moto server behind a loopback latency proxy (tests/perf/wire.py), paired
run by run, medians of the pairs' ratios. Whole processes are timed from outside (start-up included);
apply phases inside (tests/perf/phases.py). Peak RSS is the kernel's account of each finished process.

    pytest -m perf -s tests/perf                  # everything, the table printed at the end
    python -m tests.perf.bench [--runs 3] [--only buckets,queues,...] [--quick] [--markdown FILE]

Sections: buckets (create / no-op plan / destroy of N buckets + 1 table at 0 and 50 ms), queues
(apply of 1,000 and 5,000 independent queues), growth (apply phase 125 -> 2,000), parallelism (P=10
and P=32 efficiency), chains (20 chains of depth 10), backend (s3 vs local), startup, cpu (validate
and plan of 500 -> 5,000 resources), examples (requests per resource). Only public tools are used.
"""

from __future__ import annotations

import argparse
import compileall
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.perf import stacks
from tests.perf.floor import REGION
from tests.perf.wire import Wire

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "specs" / "examples"
SECTIONS = ("startup", "cpu", "buckets", "queues", "growth", "parallelism", "chains", "backend", "examples")
LATENCY = 0.05


@dataclass
class Run:
    wall: float
    code: int
    out: str
    err: str
    rss_mb: float

    def last_json(self) -> dict[str, Any]:
        return json.loads(self.out.strip().splitlines()[-1])


@dataclass
class Check:
    number: str
    text: str
    measured: str
    holds: bool


@dataclass
class Report:
    tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def table(self, title: str, header: list[str], rows: list[list[Any]]) -> None:
        self.tables.append((title, header, [[str(c) for c in row] for row in rows]))

    def check(self, number: str, text: str, measured: str, holds: bool) -> None:
        self.checks.append(Check(number, text, measured, holds))

    def markdown(self) -> str:
        out: list[str] = []
        for title, header, rows in self.tables:
            out += [f"**{title}**", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            out += ["| " + " | ".join(row) + " |" for row in rows]
            out.append("")
        if self.checks:
            out += ["**Checks of issue 15**", "", "| # | check | measured | holds |", "|---|---|---|---|"]
            out += [f"| {c.number} | {c.text} | {c.measured} | {'yes' if c.holds else 'no'} |" for c in self.checks]
            out.append("")
        return "\n".join(out)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def growth_exponent(points: list[tuple[float, float]]) -> float:
    """The least-squares slope of log(time) against log(size): 1 is linear, 2 quadratic."""
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(max(t, 1e-9)) for _, t in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def fmt(seconds: float) -> str:
    return f"{seconds:.2f} s"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "n/a"


class Bench:
    """Servers, proxies and working directories of one suite run."""

    def __init__(self, runs: int, quick: bool, workdir: Path):
        from deployer import sandbox

        self.runs = runs
        self.quick = quick
        self.workdir = workdir
        self._sandbox = sandbox
        # timed as installed: pip writes the bytecode of what it installs; an editable checkout (or one run
        # with PYTHONDONTWRITEBYTECODE) would otherwise compile deployer's source in every process
        compileall.compile_dir(str(ROOT / "deployer"), quiet=1)
        self.lean_dir = str(workdir / "moto-lean")
        self.managed_dir = str(workdir / "moto-managed")
        self.moto = sandbox.start(self.lean_dir, extra_env={"MOTO_IAM_LOAD_MANAGED_POLICIES": "false",
                                                            "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"})["url"]
        self.wires: dict[tuple[str, float], Wire] = {}
        self.report = Report()

    def close(self) -> None:
        for wire in self.wires.values():
            wire.stop()
        self._sandbox.stop(self.lean_dir)
        self._sandbox.stop(self.managed_dir)

    def wire(self, latency: float, upstream: str | None = None) -> Wire:
        key = (upstream or self.moto, latency)
        if key not in self.wires:
            self.wires[key] = Wire(key[0], latency).start()
        return self.wires[key]

    @staticmethod
    def reset(url: str) -> None:
        urllib.request.urlopen(urllib.request.Request(url + "/moto-api/reset", method="POST"), timeout=60).read()

    def env(self, endpoint: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DEPLOYER_VAR_", "AWS_"))}
        env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION,
                   AWS_ENDPOINT_URL=endpoint, AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                   PYTHONPATH=str(ROOT), NO_COLOR="1")
        return env

    def process(self, argv: list[str], endpoint: str, cwd: Path | None = None) -> Run:
        """Run one process; its wall time from outside and its peak RSS from the kernel (wait4)."""
        cwd = cwd or self.workdir
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd,
                                    env=self.env(endpoint))
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            return Run(wall, proc.returncode, out.read(), err.read(), usage.ru_maxrss / 1024)

    def deployer(self, endpoint: str, *args: str, ok: tuple[int, ...] = (0,)) -> Run:
        run = self.process([sys.executable, "-m", "deployer", *args], endpoint)
        if run.code not in ok:
            raise RuntimeError(f"deployer {' '.join(args)} exited {run.code}:\n{run.err[-3000:]}")
        return run

    def phases(self, endpoint: str, command: str, path: str, state: Path, parallelism: int = 10) -> dict[str, Any]:
        run = self.process([sys.executable, "-m", "tests.perf.phases", command, path, "--state-dir", str(state),
                            "--parallelism", str(parallelism)], endpoint)
        if run.code:
            raise RuntimeError(f"{command} {path} exited {run.code}:\n{run.err[-3000:]}")
        return {**run.last_json(), "wall": run.wall, "rss_mb": run.rss_mb}

    def floor(self, endpoint: str, kind: str, phase: str, n: int, parallelism: int = 10, depth: int = 10) -> Run:
        run = self.process([sys.executable, "-m", "tests.perf.floor", kind, phase, "--n", str(n), "--endpoint",
                            endpoint, "--parallelism", str(parallelism), "--depth", str(depth)], endpoint)
        if run.code:
            raise RuntimeError(f"floor {kind} {phase} exited {run.code}:\n{run.err[-3000:]}")
        return run

    def fresh(self, name: str) -> Path:
        path = self.workdir / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def paired(self, deployer_run: Callable[[], Any], floor_run: Callable[[], Any]) -> list[tuple[Any, Any]]:
        """`runs` pairs, the order alternating so that neither side always runs on a warmer machine."""
        pairs = []
        for i in range(self.runs):
            if i % 2 == 0:
                a = deployer_run()
                b = floor_run()
            else:
                b = floor_run()
                a = deployer_run()
            pairs.append((a, b))
        return pairs

    # --- sections ---------------------------------------------------------------------------------
    def startup(self) -> None:
        one = self.fresh("startup")
        path = stacks.write(one, {"Q": {"type": "AWS::SQS::Queue", "properties": {"QueueName": "one-q"}}})
        probe = ("import sys\nfrom deployer.cli import main\ntry:\n    main(['validate', sys.argv[1]])\n"
                 "except SystemExit:\n    pass\nprint(sorted(m for m in ('boto3', 'networkx', 'jinja2') if m in sys.modules))")
        imported = self.process([sys.executable, "-c", probe, path], self.moto).out.strip().splitlines()[-1]
        pairs = self.paired(lambda: self.deployer(self.moto, "validate", path).wall,
                            lambda: self.process([sys.executable, "-c", "pass"], self.moto).wall)
        validate = median([a for a, _ in pairs])
        bare = median([b for _, b in pairs])
        self.report.table("Start-up (whole process)", ["command", "wall (median)"], [
            ["`deployer validate` (one resource)", fmt(validate)], ["`python -c pass`", fmt(bare)],
            ["modules of boto3 / networkx / jinja2 loaded by validate", imported]])
        self.report.check("6", "validate of one resource ≤ 0.2 s wall, imports no boto3",
                          f"{fmt(validate)} (bare interpreter {fmt(bare)}); loaded {imported}",
                          validate <= 0.2 and "boto3" not in imported)

    def cpu(self) -> None:
        sizes = [500, 1000, 2000] if self.quick else [500, 1000, 2000, 5000]
        wire = self.wire(0.0)
        rows, validate_pts, plan_pts = [], [], []
        peak = 0.0
        for n in sizes:
            d = self.fresh(f"cpu-{n}")
            path = stacks.write(d, stacks.queues(n, named=False))
            val, plan, calls = [], [], []
            for _ in range(self.runs):
                v = self.deployer(wire.url, "validate", path)
                wire.reset()
                p = self.deployer(wire.url, "plan", path, "--state-dir", str(d / "state"), ok=(0,))
                calls.append(wire.stats()["total"])
                val.append(v)
                plan.append(p)
            mv, mp = median([r.wall for r in val]), median([r.wall for r in plan])
            rss = max(r.rss_mb for r in val + plan)
            peak = max(peak, rss)
            validate_pts.append((n, mv))
            plan_pts.append((n, mp))
            rows.append([n, fmt(mv), fmt(mp), max(calls), f"{rss:.0f} MB"])
        ev, ep = growth_exponent(validate_pts), growth_exponent(plan_pts)
        rows.append(["growth exponent", f"{ev:.2f}", f"{ep:.2f}", "", ""])
        self.report.table("CPU path (unnamed queues, new stack: no per-resource call)",
                          ["resources", "validate", "plan", "requests of plan", "peak RSS"], rows)
        last_n, last_v = validate_pts[-1]
        last_p = plan_pts[-1][1]
        self.report.check("7", f"{last_n:,}-resource validate ≤ 1.0 s, plan ≤ 1.5 s, peak RSS ≤ 150 MB",
                          f"validate {fmt(last_v)}, plan {fmt(last_p)}, peak {peak:.0f} MB",
                          last_n >= 5000 and last_v <= 1.0 and last_p <= 1.5 and peak <= 150)

    def buckets(self) -> None:
        sizes = [20, 200] if self.quick else [20, 200, 1000]
        rows = []
        for latency in (0.0, LATENCY):
            wire = self.wire(latency)
            for n in sizes:
                rows.append(self._buckets(wire, n, latency))
        self.report.table("N buckets + 1 table, deployer vs the floor (P=10), whole processes",
                          ["N", "latency", "create", "no-op plan", "destroy",
                           "requests deployer / floor (create, plan, destroy)"], rows)

    def _buckets(self, wire: Wire, n: int, latency: float) -> list[str]:
        d = self.fresh(f"buckets-{n}")
        path = stacks.write(d, stacks.buckets_and_table(n))
        state = d / "state"

        def deployer_run() -> dict[str, Any]:
            self.reset(self.moto)
            shutil.rmtree(state, ignore_errors=True)
            out = {}
            for phase, args, ok in (("create", ("apply", path, "--auto-approve"), (0,)),
                                    ("plan", ("plan", path, "--detailed-exitcode"), (0,)),
                                    ("destroy", ("destroy", path, "--auto-approve"), (0,))):
                wire.reset()
                run = self.deployer(wire.url, *args, "--state-dir", str(state), ok=ok)
                out[phase] = (run.wall, wire.stats()["total"])
            return out

        def floor_run() -> dict[str, Any]:
            self.reset(self.moto)
            out = {}
            for phase, name in (("create", "create"), ("plan", "read"), ("destroy", "destroy")):
                wire.reset()
                run = self.floor(wire.url, "buckets", name, n)
                out[phase] = (run.wall, wire.stats()["total"])
            return out

        pairs = self.paired(deployer_run, floor_run)
        cells = []
        for phase in ("create", "plan", "destroy"):
            ratios = [a[phase][0] / b[phase][0] for a, b in pairs]
            cells.append(f"{median(ratios):.2f}× ({fmt(median([a[phase][0] for a, _ in pairs]))} / "
                         f"{fmt(median([b[phase][0] for _, b in pairs]))})")
            self.report.facts[f"buckets.{n}.{latency}.{phase}"] = median(ratios)
        requests = ", ".join(f"{pairs[0][0][p][1]:,} / {pairs[0][1][p][1]:,}" for p in ("create", "plan", "destroy"))
        self.report.facts[f"buckets.{n}.requests"] = {p: (pairs[0][0][p][1], pairs[0][1][p][1])
                                                       for p in ("create", "plan", "destroy")}
        if n == 200 and latency == LATENCY:
            c, p, x = (self.report.facts[f"buckets.200.{LATENCY}.{k}"] for k in ("create", "plan", "destroy"))
            self.report.check("1", "N=200 buckets + 1 table at 50 ms vs the floor: create ≤ 1.5×, no-op plan "
                              "≤ 1.2×, destroy ≤ 2.0×", f"create {c:.2f}×, no-op plan {p:.2f}×, destroy {x:.2f}×",
                              c <= 1.5 and p <= 1.2 and x <= 2.0)
        if n == 200:
            plan_requests = pairs[0][0]["plan"][1]
            minimal = n + 2  # GetBucketTagging per bucket; DescribeTable + ListTagsOfResource
            self.report.facts["noop.ratio"] = plan_requests / minimal
        return [str(n), f"{int(latency * 1000)} ms", *cells, requests]

    def queues(self) -> None:
        sizes = [1000] if self.quick else [1000, 5000]
        wire = self.wire(0.0)
        rows = []
        for n in sizes:
            d = self.fresh(f"queues-{n}")
            path = stacks.write(d, stacks.queues(n))

            def deployer_run(d=d, path=path) -> dict[str, Any]:
                self.reset(self.moto)
                shutil.rmtree(d / "state", ignore_errors=True)
                return self.phases(wire.url, "apply", path, d / "state")

            def floor_run(n=n) -> Run:
                self.reset(self.moto)
                return self.floor(wire.url, "queues", "create", n)

            pairs = self.paired(deployer_run, floor_run)
            phase = median([a["apply"] / b.last_json()["work"] for a, b in pairs])
            whole = median([a["wall"] / b.wall for a, b in pairs])
            self.report.facts[f"queues.{n}"] = phase
            rows.append([n, fmt(median([a["apply"] for a, _ in pairs])),
                         fmt(median([b.last_json()["work"] for _, b in pairs])), f"{phase:.2f}×",
                         fmt(median([a["wall"] for a, _ in pairs])), fmt(median([b.wall for _, b in pairs])),
                         f"{whole:.2f}×", f"{max(a['rss_mb'] for a, _ in pairs):.0f} MB"])
        self.report.table("Apply of N independent queues at 0 ms (P=10)",
                          ["N", "apply phase", "floor's creates", "ratio", "whole apply", "whole floor", "ratio",
                           "peak RSS"], rows)

    def growth(self) -> None:
        sizes = [125, 250, 500, 1000] if self.quick else [125, 250, 500, 1000, 2000]
        wire = self.wire(0.0)
        points, rows = [], []
        for n in sizes:
            d = self.fresh(f"growth-{n}")
            path = stacks.write(d, stacks.queues(n))
            times = []
            for _ in range(self.runs):
                self.reset(self.moto)
                shutil.rmtree(d / "state", ignore_errors=True)
                times.append(self.phases(wire.url, "apply", path, d / "state")["apply"])
            points.append((n, median(times)))
            rows.append([n, fmt(median(times)), f"{median(times) / n * 1000:.2f} ms"])
        exponent = growth_exponent(points)
        rows.append(["growth exponent", f"{exponent:.2f}", ""])
        self.report.table("Apply phase of N independent queues at 0 ms (P=10)", ["N", "apply phase", "per resource"],
                          rows)
        at_1000 = self.report.facts.get("queues.1000")
        measured = f"growth exponent {exponent:.2f} ({sizes[0]} → {sizes[-1]})"
        if at_1000 is not None:
            measured = f"1,000 queues {at_1000:.2f}× the floor; " + measured
        self.report.check("2", "apply of 1,000 independent queues at 0 ms ≤ 1.5× the floor; growth exponent of the "
                          "apply phase 125 → 2,000 ≤ 1.1", measured,
                          exponent <= 1.1 and (at_1000 is None or at_1000 <= 1.5))

    def _one_call(self, wire: Wire) -> float:
        """The time of one create through the proxy, alone: what a step costs at best."""
        self.reset(self.moto)
        work = median([self.floor(wire.url, "queues", "create", 20, parallelism=1).last_json()["work"]
                       for _ in range(self.runs)])
        return work / 20

    def parallelism(self) -> None:
        wire = self.wire(LATENCY)
        one = self._one_call(wire)
        n = 200
        d = self.fresh("parallel")
        path = stacks.write(d, stacks.queues(n))
        rows, eff = [], {}
        for p in (10, 32):
            def deployer_run(p=p) -> dict[str, Any]:
                self.reset(self.moto)
                shutil.rmtree(d / "state", ignore_errors=True)
                return self.phases(wire.url, "apply", path, d / "state", parallelism=p)

            def floor_run(p=p) -> Run:
                self.reset(self.moto)
                return self.floor(wire.url, "queues", "create", n, parallelism=p)

            pairs = self.paired(deployer_run, floor_run)
            ideal = math.ceil(n / p) * one
            apply = median([a["apply"] for a, _ in pairs])
            work = median([b.last_json()["work"] for _, b in pairs])
            eff[p] = ideal / apply
            rows.append([p, fmt(apply), fmt(ideal), f"{ideal / apply:.0%}", fmt(work), f"{ideal / work:.0%}"])
        self.report.table(f"200 independent queues at 50 ms: apply phase against ideal (⌈N/P⌉ × one call alone, "
                          f"{one * 1000:.0f} ms)", ["P", "apply phase", "ideal", "efficiency", "floor", "floor's"], rows)
        self.report.check("3", "200 queues at 50 ms: apply phase ≥ 75% of ideal at P=32, ≥ 85% at P=10",
                          f"P=32 {eff[32]:.0%}, P=10 {eff[10]:.0%}", eff[32] >= 0.75 and eff[10] >= 0.85)

    def chains(self) -> None:
        wire = self.wire(LATENCY)
        one = self._one_call(wire)
        count, depth = 20, 10
        d = self.fresh("chains")
        path = stacks.write(d, stacks.chains(count, depth))

        def deployer_run() -> dict[str, Any]:
            self.reset(self.moto)
            shutil.rmtree(d / "state", ignore_errors=True)
            return self.phases(wire.url, "apply", path, d / "state", parallelism=count)

        def floor_run() -> Run:
            self.reset(self.moto)
            return self.floor(wire.url, "chains", "create", count, parallelism=count, depth=depth)

        pairs = self.paired(deployer_run, floor_run)
        apply = median([a["apply"] for a, _ in pairs])
        work = median([b.last_json()["work"] for _, b in pairs])
        self.report.table("20 chains of depth 10 at 50 ms (P=20)", ["", "apply phase", "ideal (10 × one call)",
                                                                    "ratio to the floor"],
                          [["deployer", fmt(apply), fmt(depth * one), ratio(apply, work)],
                           ["floor", fmt(work), fmt(depth * one), ""]])

    def backend(self) -> None:
        rows, at = [], {}
        for latency in (0.0, LATENCY):
            row, at[latency] = self._backend(latency, n=200, parallelism=32)
            rows.append(row)
        self.report.table("s3 backend vs local: apply of 200 queues at P=32",
                          ["latency", "s3 (whole)", "local (whole)", "ratio", "s3 (apply phase)",
                           "local (apply phase)", "ratio"], rows)
        self.report.check("4", "the s3 backend at P=32 ≤ 1.3× the local backend on the same apply",
                          ", ".join(f"{v:.2f}× at {int(k * 1000)} ms" for k, v in at.items()),
                          all(v <= 1.3 for v in at.values()))

    def _backend(self, latency: float, n: int, parallelism: int) -> tuple[list[str], float]:
        wire = self.wire(latency)
        d = self.fresh("backend")
        local = stacks.write(d / "local", stacks.queues(n))
        remote = stacks.write(d / "s3", stacks.queues(n), backend=stacks.s3_backend())

        def local_run() -> dict[str, Any]:
            self.reset(self.moto)
            shutil.rmtree(d / "state", ignore_errors=True)
            return self.phases(wire.url, "apply", local, d / "state", parallelism=parallelism)

        def s3_run() -> dict[str, Any]:
            self.reset(self.moto)
            self._state_bucket()
            shutil.rmtree(d / "state", ignore_errors=True)
            return self.phases(wire.url, "apply", remote, d / "state", parallelism=parallelism)

        pairs = self.paired(s3_run, local_run)
        whole = median([a["wall"] / b["wall"] for a, b in pairs])
        phase = median([a["apply"] / b["apply"] for a, b in pairs])
        return [f"{int(latency * 1000)} ms", fmt(median([a["wall"] for a, _ in pairs])),
                fmt(median([b["wall"] for _, b in pairs])), f"{whole:.2f}×",
                fmt(median([a["apply"] for a, _ in pairs])), fmt(median([b["apply"] for _, b in pairs])),
                f"{phase:.2f}×"], whole

    def _state_bucket(self) -> None:
        import boto3

        kwargs = {"region_name": REGION, "endpoint_url": self.moto, "aws_access_key_id": "testing",
                  "aws_secret_access_key": "testing"}
        boto3.client("s3", **kwargs).create_bucket(Bucket=stacks.STATE_BUCKET)
        boto3.client("dynamodb", **kwargs).create_table(
            TableName=stacks.LOCK_TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}])

    def examples(self) -> None:
        managed = self._sandbox.start(self.managed_dir)["url"]  # two examples attach AWS-managed policies
        wire = self.wire(0.0, upstream=managed)
        rows, per = [], []
        for example in sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()):
            d = self.fresh(f"example-{example}")
            spec = d / "spec"
            shutil.copytree(EXAMPLES / example, spec)
            self.reset(managed)
            wire.reset()
            self.deployer(wire.url, "apply", str(spec), "--auto-approve", "--state-dir", str(d / "state"))
            created = wire.stats()
            resources = len(json.loads(next((d / "state" / "state").glob("*.json")).read_text())["resources"])
            wire.reset()
            self.deployer(wire.url, "plan", str(spec), "--detailed-exitcode", "--state-dir", str(d / "state"))
            planned = wire.stats()["total"]
            per.append(created["total"] / resources)
            rows.append([example, resources, created["total"], f"{created['total'] / resources:.2f}", planned,
                         f"{planned / resources:.2f}"])
        average = statistics.fmean(per)
        rows.append(["average", "", "", f"{average:.2f}", "", ""])
        self.report.table("Requests of the examples (apply into an empty account, then a no-op plan)",
                          ["example", "resources", "apply requests", "per resource", "no-op plan requests",
                           "per resource"], rows)
        noop = self.report.facts.get("noop.ratio")
        measured = f"creates {average:.2f} requests per resource over the examples"
        if noop is not None:
            measured = f"no-op plan of 200 buckets + 1 table {noop:.3f}× the minimal reads; " + measured
        self.report.check("5", "no-op plan ≤ 1.1× the minimal reads; creates ≤ 2 requests per resource on average "
                          "over the examples", measured, average <= 2 and (noop is None or noop <= 1.1))
        self.report.facts["examples.per_resource"] = average


def run(runs: int = 3, only: tuple[str, ...] = SECTIONS, quick: bool = False) -> Report:
    workdir = Path(tempfile.mkdtemp(prefix="deployer-bench-"))
    bench = Bench(runs, quick, workdir)
    try:
        for section in SECTIONS:
            if section in only:
                started = time.perf_counter()
                getattr(bench, section)()
                print(f"[bench] {section}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        bench.report.facts["settings"] = {"runs": runs, "quick": quick, "cores": os.cpu_count()}
        return bench.report
    finally:
        bench.close()
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="paired runs per measurement (median taken)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections: " + ", ".join(SECTIONS))
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for trying the suite out")
    parser.add_argument("--markdown", help="also write the tables to this file")
    args = parser.parse_args(argv)
    only = tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    report = run(args.runs, only, args.quick)
    text = report.markdown()
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
