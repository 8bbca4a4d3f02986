"""The embedded sandbox: a moto server on 127.0.0.1, started in the background and reused.

Its address and pid live in `<state dir>/sandbox.json`. The server stops itself after
DEPLOYER_SANDBOX_IDLE seconds without a request (default two hours).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from deployer.errors import DeployerError

DEFAULT_IDLE_SECONDS = 7200
HEALTH_PATH = "/deployer-sandbox/health"  # answered by our wrapper, never by moto
# moto and its server's web stack come with the `sandbox` extra only: a runtime install for real AWS
# stays small, so nothing outside serve() imports them
EMULATOR_MODULES = ("moto", "werkzeug", "flask", "flask_cors")
INSTALL_HINT = "pip install 'deployer-aws[sandbox]'"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # a finder that refuses the name: as good as not installed
        return False


def require_emulator() -> None:
    """Refuse, in one line that says how to fix it, when the emulator is not installed."""
    if not all(_installed(name) for name in EMULATOR_MODULES):
        raise DeployerError(f"the sandbox needs the emulator (moto), which is not installed: {INSTALL_HINT}")


# what the emulator's process may inherit: the interpreter's own settings and moto's. It runs for hours
# and needs no credentials, so it gets no AWS_* (keys, tokens, profiles), no DEPLOYER_VAR_* (sensitive
# variables) and nothing else of the caller's environment
CHILD_ENV_NAMES = frozenset({"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT",
                             "PYTHONPATH", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED",
                             "PYTHONSAFEPATH", "PYTHONIOENCODING", "PYTHONUTF8", "VIRTUAL_ENV",
                             "DEPLOYER_SANDBOX_IDLE"})
CHILD_ENV_PREFIXES = ("LC_", "MOTO_")


def child_environment(environ: Mapping[str, str], extra_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The emulator's environment: the allowed names of environ, then extra_env (the caller's explicit
    settings for moto)."""
    env = {k: v for k, v in environ.items() if k in CHILD_ENV_NAMES or k.startswith(CHILD_ENV_PREFIXES)}
    return {**env, **(extra_env or {})}


def _info_path(state_dir: str) -> Path:
    return Path(state_dir) / "sandbox.json"


def _alive(pid: int) -> bool:
    """Whether the process runs (a child of ours that exited is reaped here, not counted as running)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass  # not our child: another command started it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _responds(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + HEALTH_PATH, timeout=2) as resp:
            return resp.status == 200 and resp.read() == b"ok"
    except Exception:
        return False


def status(state_dir: str) -> dict | None:
    """The running sandbox's {pid, url}, or None."""
    path = _info_path(state_dir)
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not _alive(int(info.get("pid", 0))) or not _responds(info["url"]):
        return None
    return info


def start(state_dir: str, extra_env: dict[str, str] | None = None) -> dict:
    """Start the sandbox unless it already runs; return {pid, url}. The server's environment is
    child_environment's: extra_env adds to it (moto reads its settings from there)."""
    info = status(state_dir)
    if info:
        return info
    require_emulator()
    Path(state_dir).mkdir(parents=True, exist_ok=True)
    path = _info_path(state_dir)
    path.unlink(missing_ok=True)
    log = open(Path(state_dir) / "sandbox.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        [sys.executable, "-m", "deployer.sandbox", str(path.resolve())],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        env=child_environment(os.environ, extra_env),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DeployerError(f"the sandbox failed to start (see {Path(state_dir) / 'sandbox.log'})")
        info = status(state_dir)
        if info:
            return info
        time.sleep(0.1)
    proc.kill()
    raise DeployerError("the sandbox did not start within 30 seconds")


def stop(state_dir: str) -> bool:
    """Stop the sandbox; True when one was running."""
    path = _info_path(state_dir)
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    pid = int(info.get("pid", 0))
    running = pid and _alive(pid)
    if running:
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            if not _alive(pid):
                break
            time.sleep(0.1)
    path.unlink(missing_ok=True)
    return bool(running)


def serve(info_file: str, idle_seconds: float | None = None) -> None:
    """Run a moto server until idle for idle_seconds; write {pid, url} to info_file once listening."""
    # AWS-managed IAM policies exist in a real account; load them so specs can attach them
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    idle = idle_seconds or float(os.environ.get("DEPLOYER_SANDBOX_IDLE", DEFAULT_IDLE_SECONDS))
    last = [time.monotonic()]
    app = DomainDispatcherApplication(create_backend_app)

    def tracked(environ, start_response):
        if environ.get("PATH_INFO") == HEALTH_PATH:
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        last[0] = time.monotonic()
        return app(environ, start_response)

    server = make_server("127.0.0.1", 0, tracked, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"

    def watchdog():
        while time.monotonic() - last[0] < idle:
            time.sleep(min(30.0, idle / 4))
        server.shutdown()

    threading.Thread(target=watchdog, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))  # nothing to save: the emulator's state is memory
    tmp = info_file + ".tmp"
    Path(tmp).write_text(json.dumps({"pid": os.getpid(), "url": url}))
    os.replace(tmp, info_file)
    server.serve_forever()


if __name__ == "__main__":
    serve(sys.argv[1])
