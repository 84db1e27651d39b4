"""Celery app: `celery -A dsar_project worker` / `celery -A dsar_project beat` when a broker is configured."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsar_project.settings")

app = Celery("dsar_project", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The current app is per thread in Celery; make this one every thread's default, so that `core.wakeup`
# (which sends tasks by name from its own thread, without importing the project) publishes through it.
app.set_default()
