"""A gunicorn worker killed mid-attempt loses no saved answer; the attempt resumes."""

from __future__ import annotations

import os
import re
import signal
import time

from sqlalchemy import create_engine, func, select

from quizapp.models import Response
from tests.conftest import FIXTURE_CONTENT
from tests.live_server import (
    Browser,
    gunicorn,
    server_log,
    sqlite_file_with_fixture_bank,
)
from tests.test_concurrency import Server, start


def worker_pids(log: str) -> set[int]:
    return {int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", log)}


def wait_for_new_workers(server: Server, old: set[int], count: int) -> set[int]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        fresh = worker_pids(server_log(server.log_path)) - old
        if (
            len(fresh) >= count
            and Browser(server.base_url).get("/healthz").status == 200
        ):
            return fresh
        time.sleep(0.2)
    raise AssertionError(f"no new workers; log:\n{server_log(server.log_path)}")


def test_killed_workers_lose_no_saved_answer_and_the_attempt_resumes(tmp_path):
    url = sqlite_file_with_fixture_bank(tmp_path)
    engine = create_engine(url)
    log_path = tmp_path / "gunicorn.log"
    try:
        with gunicorn(url, FIXTURE_CONTENT, log_path, workers=2) as base_url:
            server = Server(base_url, engine, log_path)
            learner = server.learner()
            learner.get("/")
            attempt_id = start(learner, "fx-exam")
            for number in (1, 2):
                reply = learner.post(
                    f"/attempts/{attempt_id}/q/{number}",
                    server.form(attempt_id, number),
                )
                assert reply.status == 302, reply.body[:300]
            workers = worker_pids(server_log(log_path))
            assert len(workers) == 2
            for pid in workers:
                os.kill(pid, signal.SIGKILL)  # no graceful shutdown, mid-attempt
            wait_for_new_workers(server, workers, 2)

            resumed = learner.get(f"/attempts/{attempt_id}")
            assert resumed.status == 302
            assert resumed.location.endswith(f"/attempts/{attempt_id}/q/3")
            page = learner.get(f"/attempts/{attempt_id}/q/1")
            assert page.status == 200 and "Save answer" in page.body
            for number in (3, 4):
                reply = learner.post(
                    f"/attempts/{attempt_id}/q/{number}",
                    server.form(attempt_id, number),
                )
                assert reply.status == 302
            assert learner.post(f"/attempts/{attempt_id}/finish").status == 302
            results = learner.get(f"/attempts/{attempt_id}/results")
            assert results.status == 200
            assert "100%" in results.body
        with engine.connect() as connection:
            stored = connection.scalar(
                select(func.count())
                .select_from(Response)
                .where(Response.attempt_id == attempt_id)
            )
        assert stored == 4
    finally:
        engine.dispose()
