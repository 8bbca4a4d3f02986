"""A stand-in for the GitHub CLI (`gh`), for running the documented workflow's shell steps in a test.

It answers only the calls the workflow makes, from one JSON file the test prepares and reads back
(FAKE_GH_STATE), and it fails loudly on anything else. The answers have the shapes of the real
REST API and `gh` output the workflow relies on: `gh api` prints the response (or applies --jq,
as `jq -r` does), `gh issue create` prints the issue's URL, `gh run download -n NAME` extracts a
single artifact straight into --dir. Every call is appended to the state's "calls".
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BOT = {"login": "github-actions[bot]", "type": "Bot"}


class GitHubState:
    """The fake's repository data: pull requests by commit, artifacts, comments, issues, labels."""

    def __init__(self, path: Path, repo: str = "acme/infra"):
        self.path = path
        if not path.exists():
            self.data: dict[str, Any] = {"repo": repo, "next_id": 1000, "pulls_for_commit": {}, "artifacts": [],
                                         "comments": {}, "issues": [], "labels": [], "calls": []}
            self.save()
        self.data = json.loads(path.read_text())

    def save(self) -> None:
        self.path.write_text(json.dumps(self.data, indent=1))

    def reload(self) -> GitHubState:
        self.data = json.loads(self.path.read_text())
        return self

    @property
    def repo(self) -> str:
        return self.data["repo"]

    @property
    def files(self) -> Path:
        return self.path.parent / "artifact-files"

    def new_id(self) -> int:
        self.data["next_id"] += 1
        return self.data["next_id"]

    def merged(self, commit: str, number: int, head_sha: str, base: str = "main") -> None:
        """Record that `commit` on base is the merge of pull request `number` (head `head_sha`)."""
        self.data["pulls_for_commit"][commit] = [
            {"number": number, "state": "closed", "merged_at": _now(), "head": {"sha": head_sha, "ref": f"pr-{number}"},
             "base": {"ref": base}}]
        self.save()

    def upload_artifact(self, name: str, files: list[Path], run_id: int, head_sha: str, branch: str) -> None:
        art_id = self.new_id()
        dest = self.files / str(art_id)
        dest.mkdir(parents=True)
        for f in files:
            shutil.copy(f, dest / f.name)
        self.data["artifacts"].append({"id": art_id, "name": name, "expired": False, "created_at": _now(),
                                       "workflow_run": {"id": run_id, "head_sha": head_sha, "head_branch": branch}})
        self.save()

    def comments(self, number: int) -> list[dict]:
        return self.data["comments"].get(str(number), [])

    def issues(self, state: str = "all") -> list[dict]:
        return [i for i in self.data["issues"] if state == "all" or i["state"] == state]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class GhError(Exception):
    """What gh prints on stderr before exiting 1."""


def _out(value: Any, jq: str | None) -> None:
    text = json.dumps(value)
    if jq is None:
        print(text)
        return
    res = subprocess.run(["jq", "-r", jq], input=text, capture_output=True, text=True)
    if res.returncode:
        raise GhError(res.stderr.strip())
    sys.stdout.write(res.stdout)


def _body(args: argparse.Namespace) -> str:
    if getattr(args, "body_file", None):
        return Path(args.body_file).read_text() if args.body_file != "-" else sys.stdin.read()
    if getattr(args, "body", None) is not None:
        return args.body
    raise GhError("must provide `--body` or `--body-file` when not running interactively")


def _fields(args: argparse.Namespace) -> dict[str, str]:
    fields = {}
    for raw in args.raw_field or []:
        k, _, v = raw.partition("=")
        fields[k] = v
    for typed in args.field or []:
        k, _, v = typed.partition("=")
        fields[k] = Path(v[1:]).read_text() if v.startswith("@") else v
    return fields


def api(st: GitHubState, args: argparse.Namespace) -> None:
    method = (args.method or ("POST" if args.field or args.raw_field else "GET")).upper()
    path, _, query = args.endpoint.lstrip("/").partition("?")
    params = dict(p.partition("=")[::2] for p in query.split("&") if p)
    prefix = f"repos/{st.repo}/"
    if not path.startswith(prefix):
        raise GhError("Not Found (HTTP 404)")
    route, fields = path[len(prefix):], _fields(args)
    if method == "GET" and (m := re.fullmatch(r"commits/([0-9a-f]{7,40})/pulls", route)):
        result: Any = st.data["pulls_for_commit"].get(m[1], [])
    elif method == "GET" and route == "actions/artifacts":
        arts = [a for a in st.data["artifacts"] if "name" not in params or a["name"] == params["name"]]
        arts = sorted(arts, key=lambda a: a["created_at"], reverse=True)
        result = {"total_count": len(arts), "artifacts": arts}
    elif method == "GET" and (m := re.fullmatch(r"issues/(\d+)/comments", route)):
        result = st.comments(int(m[1]))
    elif method == "POST" and (m := re.fullmatch(r"issues/(\d+)/comments", route)):
        result = {"id": st.new_id(), "body": fields["body"], "user": BOT}
        st.data["comments"].setdefault(m[1], []).append(result)
    elif method == "PATCH" and (m := re.fullmatch(r"issues/comments/(\d+)", route)):
        found = [c for cs in st.data["comments"].values() for c in cs if c["id"] == int(m[1])]
        if not found:
            raise GhError("Not Found (HTTP 404)")
        found[0]["body"] = fields["body"]
        result = found[0]
    else:
        raise GhError(f"Not Found (HTTP 404): the fake has no {method} {route}")
    if not args.silent:
        _out(result, args.jq)


def _issue(st: GitHubState, number: str) -> dict:
    for issue in st.data["issues"]:
        if str(issue["number"]) == number.lstrip("#"):
            return issue
    raise GhError(f"GraphQL: Could not resolve to an issue or pull request with the number of {number}.")


def _url(st: GitHubState, number: int) -> str:
    return f"https://github.com/{st.repo}/issues/{number}"


def issue(st: GitHubState, args: argparse.Namespace) -> None:
    if args.action == "list":
        if not args.json:
            raise GhError("the fake prints only --json output")
        found = [i for i in reversed(st.data["issues"]) if args.state == "all" or i["state"] == args.state]
        found = [i for i in found if all(lbl in i["labels"] for lbl in args.label or [])]
        _out([{k: i[k] for k in args.json.split(",")} for i in found][: args.limit], args.jq)
    elif args.action == "create":
        missing = [lbl for lbl in args.label or [] if lbl not in st.data["labels"]]
        if missing:
            raise GhError(f"could not add label: '{missing[0]}' not found")
        number = len(st.data["issues"]) + 1
        st.data["issues"].append({"number": number, "title": args.title, "body": _body(args), "state": "open",
                                  "labels": list(args.label or []), "comments": []})
        print(_url(st, number))
    elif args.action == "edit":
        found = _issue(st, args.number)
        found["body"] = _body(args)
        print(_url(st, found["number"]))
    elif args.action == "comment":
        found = _issue(st, args.number)
        found["comments"].append(_body(args))
        print(f"{_url(st, found['number'])}#issuecomment-{st.new_id()}")
    elif args.action == "close":
        found = _issue(st, args.number)
        if args.comment:
            found["comments"].append(args.comment)
        found["state"] = "closed"
        print(f"✓ Closed issue {st.repo}#{found['number']} ({found['title']})", file=sys.stderr)


def label(st: GitHubState, args: argparse.Namespace) -> None:
    if args.name in st.data["labels"] and not args.force:
        raise GhError(f'label with name "{args.name}" already exists; use `--force` to update its color and '
                      "description")
    if args.name not in st.data["labels"]:
        st.data["labels"].append(args.name)


def run_download(st: GitHubState, args: argparse.Namespace) -> None:
    arts = [a for a in st.data["artifacts"] if str(a["workflow_run"]["id"]) == args.run_id and not a["expired"]]
    if not arts:
        raise GhError("no valid artifacts found to download")
    wanted = [a for a in arts if not args.name or a["name"] in args.name]
    if not wanted:
        raise GhError("no artifact matches any of the names provided")
    for art in wanted:
        dest = Path(args.dir) if len(args.name or []) == 1 else Path(args.dir) / art["name"]
        dest.mkdir(parents=True, exist_ok=True)
        for f in (st.files / str(art["id"])).iterdir():
            shutil.copy(f, dest / f.name)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gh")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("api")
    a.add_argument("endpoint")
    a.add_argument("-X", "--method")
    a.add_argument("-q", "--jq")
    a.add_argument("--paginate", action="store_true")
    a.add_argument("--silent", action="store_true")
    a.add_argument("-f", "--raw-field", action="append")
    a.add_argument("-F", "--field", action="append")
    i = sub.add_parser("issue").add_subparsers(dest="action", required=True)
    ls = i.add_parser("list")
    ls.add_argument("-s", "--state", default="open", choices=["open", "closed", "all"])
    ls.add_argument("-l", "--label", action="append")
    ls.add_argument("--json")
    ls.add_argument("-q", "--jq")
    ls.add_argument("-L", "--limit", type=int, default=30)
    cr = i.add_parser("create")
    cr.add_argument("-t", "--title", required=True)
    cr.add_argument("-l", "--label", action="append")
    for cmd in (cr, i.add_parser("edit"), i.add_parser("comment")):
        if cmd is not cr:
            cmd.add_argument("number")
        cmd.add_argument("-F", "--body-file")
        cmd.add_argument("-b", "--body")
    cl = i.add_parser("close")
    cl.add_argument("number")
    cl.add_argument("-c", "--comment")
    cl.add_argument("-r", "--reason")
    lbl = sub.add_parser("label").add_subparsers(dest="action", required=True).add_parser("create")
    lbl.add_argument("name")
    lbl.add_argument("-c", "--color")
    lbl.add_argument("-d", "--description")
    lbl.add_argument("-f", "--force", action="store_true")
    dl = sub.add_parser("run").add_subparsers(dest="action", required=True).add_parser("download")
    dl.add_argument("run_id")
    dl.add_argument("-n", "--name", action="append")
    dl.add_argument("-D", "--dir", default=".")
    return p


def main(argv: list[str]) -> int:
    st = GitHubState(Path(os.environ["FAKE_GH_STATE"]))
    st.data["calls"].append(argv)
    try:
        if not (os.environ.get("GH_TOKEN") or os.environ.get("GITHUB_TOKEN")):
            raise GhError("To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN environment variable.")
        args = parser().parse_args(argv)
        if args.command != "api" and os.environ.get("GH_REPO") != st.repo:
            raise GhError("failed to run git: fatal: not a git repository (set GH_REPO)")
        {"api": api, "issue": issue, "label": label, "run": run_download}[args.command](st, args)
    except GhError as exc:
        print(f"gh: {exc}" if argv[:1] == ["api"] else str(exc), file=sys.stderr)
        return 1
    finally:
        st.save()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
