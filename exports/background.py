"""What the background runner does for exports (dsar_project/background composes it):

- embedded mode: `exports_start(pool)` claims jobs handed to the background and runs each on the
  runner's export threads;
- with Celery: `exports_enqueue(send)` marks each such job "queued" and sends its id to the `exports`
  queue, where `export_run_task` claims and runs it. A task for a job already taken does nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import close_old_connections

from .models import ExportJob, State
from .pipeline import job_execute
from .services.jobs import job_claim
from .services.machinery import new_worker_id


def jobs_waiting(limit: int) -> list[str]:
    return list(
        ExportJob.objects.filter(state=State.COLLECTING, worker_id="")
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )


def export_take_and_run(job_id: str) -> bool:
    """Claim a job waiting for a worker and run it to its end here; False if another worker has it."""
    worker = new_worker_id("worker")
    if not job_claim(job_id=job_id, worker_id=worker):
        return False
    try:
        job_execute(job_id, worker_id=worker)
    finally:
        close_old_connections()
    return True


def exports_enqueue(send: Callable[[str], None], *, limit: int = 50) -> int:
    from django.utils import timezone

    sent = 0
    for job_id in jobs_waiting(limit):
        now = timezone.now()
        if ExportJob.objects.filter(pk=job_id, state=State.COLLECTING, worker_id="").update(
            worker_id="queued", last_heartbeat_at=now, updated_at=now
        ):
            send(job_id)
            sent += 1
    return sent
