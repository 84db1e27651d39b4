"""`serve` supervises its background worker: one that dies is restarted (and logged), and delivers.

Against a real `manage.py serve` (gunicorn and its `run_worker` child) on the test database, so the test
commits for real (`transaction=True`). gunicorn's arbiter reaps any child of serve, which is why the
supervisor cannot rely on `Popen.wait()`; the test kills the worker with SIGKILL, as an OOM killer would.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import time
from pathlib import Path

import pytest
import requests

from core.management.commands.serve import WorkerSupervisor, describe_exit
from core.services import api_key_create
from tests.conftest import intake_body
from tests.notifications import conftest as real_processes
from tests.notifications.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=True)

STARTED = re.compile(r"Embedded background worker started \(pid (\d+)\)")
RESTARTED = re.compile(r"Background worker restarted \(pid (\d+)\)")

# The real-process fixtures (a receiver, child processes on the test database), shared with notifications.
allow_private = real_processes.allow_private
child_env = real_processes.child_env
endpoint_for = real_processes.endpoint_for
eventually = real_processes.eventually
procs = real_processes.procs
receiver = real_processes.receiver


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); /proc tells it apart where there is one.
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _wake_port(pid: int) -> str | None:
    environ = Path(f"/proc/{pid}/environ")
    if not environ.exists():
        return None
    for entry in environ.read_bytes().split(b"\0"):
        if entry.startswith(b"DSAR_WORKER_WAKE_PORT="):
            return entry.split(b"=", 1)[1].decode()
    return None


def test_a_killed_worker_is_restarted_logged_and_delivers(
    procs, child_env, receiver, endpoint_for, org, eventually
):
    port = free_port()
    env = child_env(SECRET_KEY="test-serve-supervision-" + "x" * 40, DEBUG="0")
    env.pop("REDIS_URL", None)
    env.pop("DSAR_WORKER_WAKE_PORT", None)  # serve chooses one
    serve = procs.start(
        "serve",
        [sys.executable, "manage.py", "serve", "--port", str(port), "--workers", "1", "--threads", "2"],
        env=env,
    )
    serve.wait_for_output("Background worker started", timeout=60)
    first = int(STARTED.search(serve.output()).group(1))
    assert _alive(first)
    wake_port = _wake_port(first)

    os.kill(first, signal.SIGKILL)

    restarted = eventually(lambda: RESTARTED.search(serve.output()), timeout=5)
    second = int(restarted.group(1))
    assert second != first
    assert _alive(second)
    assert not _alive(first)
    # gunicorn's arbiter reaps any child; serve collects its worker's status first, so the log says why.
    exited = rf"Background worker \(pid {first}\) exited after \d+ s: killed by SIGKILL; restarting in 1 s\."
    assert re.search(exited, serve.output()), serve.output()[-3000:]
    assert _wake_port(second) == wake_port  # the web processes keep waking the new worker
    eventually(lambda: serve.output().count("Background worker started") == 2, timeout=30)

    # An event committed now is delivered by the new worker.
    endpoint_for(receiver)
    _, raw = api_key_create(org=org, scopes=["officer"])
    created = requests.post(
        f"http://127.0.0.1:{port}/v1/requests", json=intake_body(), headers={"Authorization": f"Bearer {raw}"}
    )
    assert created.status_code == 202, created.text
    (got,) = receiver.wait_for(1, timeout=15)
    assert got.json["data"]["requestId"] == created.json()["data"]["request"]["id"]

    # A stop signal to the whole group (as systemd sends it) reaches the worker too: serve stops
    # supervising before it winds down, so the worker is not restarted on the way out.
    os.killpg(serve.popen.pid, signal.SIGTERM)
    assert serve.popen.wait(30) == 0
    eventually(lambda: not _alive(second), timeout=5)
    assert len(RESTARTED.findall(serve.output())) == 1
    assert f"Background worker (pid {second}) stopped" in serve.output()


def test_a_child_that_keeps_dying_is_restarted_with_doubling_backoff(caplog):
    caplog.set_level(logging.INFO, logger="dsar.serve")
    supervisor = WorkerSupervisor(
        [sys.executable, "-c", "import sys; sys.exit(3)"],
        env=dict(os.environ),
        first_backoff=0.05,
        max_backoff=0.2,
        healthy_after=60,
    )
    first = supervisor.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and caplog.text.count("Background worker restarted") < 4:
        time.sleep(0.02)
    supervisor.stop()

    exits = [r.getMessage() for r in caplog.records if "exited" in r.getMessage()]
    assert exits[0].startswith(f"Background worker (pid {first}) exited after ")
    assert all(": exit code 3; restarting in " in line for line in exits)
    delays = [line.rsplit("restarting in ", 1)[1] for line in exits[:4]]
    assert delays == ["0.05 s.", "0.1 s.", "0.2 s.", "0.2 s."]
    pids = [int(m) for m in re.findall(r"restarted \(pid (\d+)\)", caplog.text)]
    assert len(set(pids)) == len(pids) and first not in pids


def test_a_child_that_ran_long_enough_starts_the_backoff_again(caplog):
    caplog.set_level(logging.INFO, logger="dsar.serve")
    supervisor = WorkerSupervisor(
        [sys.executable, "-c", "import time; time.sleep(0.1)"],
        env=dict(os.environ),
        first_backoff=0.05,
        max_backoff=1,
        healthy_after=0.05,
    )
    supervisor.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and caplog.text.count("Background worker restarted") < 3:
        time.sleep(0.02)
    supervisor.stop()

    exits = [r.getMessage() for r in caplog.records if "exited" in r.getMessage()]
    assert len(exits) >= 3
    assert all(line.endswith("restarting in 0.05 s.") for line in exits)


def test_stop_terminates_the_child_and_never_restarts_it(caplog):
    caplog.set_level(logging.INFO, logger="dsar.serve")
    supervisor = WorkerSupervisor(
        [sys.executable, "-c", "import time; time.sleep(60)"], env=dict(os.environ), first_backoff=0.01
    )
    pid = supervisor.start()

    supervisor.stop()

    assert not _alive(pid)
    assert "Background worker restarted" not in caplog.text
    assert f"Background worker (pid {pid}) stopped: killed by SIGTERM." in caplog.text


def test_exit_statuses_in_words():
    assert describe_exit(None) == "exit status unknown (reaped by another waiter)"
    assert describe_exit(3 << 8) == "exit code 3"
    assert describe_exit(signal.SIGKILL) == "killed by SIGKILL"


def test_a_restart_that_fails_is_logged_and_tried_again(caplog, monkeypatch):
    from core.management.commands import serve

    caplog.set_level(logging.INFO, logger="dsar.serve")
    real_popen = serve.subprocess.Popen
    failures = iter([OSError("fork failed"), OSError("fork failed")])

    def flaky_popen(*args, **kwargs):
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real_popen(*args, **kwargs)

    supervisor = WorkerSupervisor(
        [sys.executable, "-c", "import time; time.sleep(0.1)"],
        env=dict(os.environ),
        first_backoff=0.02,
        max_backoff=0.05,
    )
    supervisor.start()
    monkeypatch.setattr(serve.subprocess, "Popen", flaky_popen)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "Background worker restarted" not in caplog.text:
        time.sleep(0.02)
    supervisor.stop()

    assert caplog.text.count("Could not restart the background worker") == 2
    assert "Background worker restarted (pid " in caplog.text
