"""The background runner: what runs beside the web app, composed at the project level.

Each app offers plain functions for its periodic work and signals "work waiting" through `core.wakeup`
without importing anything here. This package puts them together twice, over the same functions:

- `periodic`: what runs, and how often (the dispatch pass; the sweeps of every app);
- `worker`: the embedded worker (`manage.py run_worker`, started and supervised by `manage.py serve`
  when no broker is configured);
- `tasks` and `schedule`: the Celery tasks and beat's schedule (`celery -A dsar_project worker|beat`);
- `beat`: beat's scheduler, which writes beat's heartbeat for `/healthz` and the admin.
"""
