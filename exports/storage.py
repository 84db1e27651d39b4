"""Where bundles live: Django's named `exports` storage (settings.STORAGES).

By default the local filesystem under DSAR_EXPORT_DIR, owner-only (0700 directories, 0600 files); with
DSAR_EXPORT_S3_BUCKET any S3-compatible service through django-storages. Nothing here knows which.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages

log = logging.getLogger(__name__)


def export_storage() -> Storage:
    return storages["exports"]


def bundle_key_for(*, org_id: str, job_id: str, attempt: str) -> str:
    """A new key for one packaging attempt: a retried job never overwrites an earlier attempt's blob."""
    return f"{org_id}/{job_id.replace(':', '_')}/{attempt}.zip"


def bundle_store(local_path: str, key: str) -> str:
    """Upload the finished bundle; the key it was stored under (the storage may not rename it)."""
    try:
        with open(local_path, "rb") as handle:
            stored = export_storage().save(key, File(handle, name=os.path.basename(key)))
    except BaseException:
        # A save that failed part-way (a full disk, a dropped connection) may have left part of the object
        # under `key` (Django's FileSystemStorage does): remove it, so no half-written bundle stays behind.
        # The key is this attempt's own, so nothing else can be stored under it.
        with contextlib.suppress(Exception):
            bundle_delete(key)
        raise
    if stored != key:  # never expected with unique keys: refuse to point at something else
        bundle_delete(stored)
        raise OSError("the export storage stored the bundle under another name")
    return stored


def bundle_delete(key: str) -> None:
    """Delete a bundle; a missing one is not an error (a sweep may run twice)."""
    if not key:
        return
    with contextlib.suppress(FileNotFoundError):
        export_storage().delete(key)


def bundle_open(key: str) -> File:
    return export_storage().open(key, "rb")


# --- local work directories -----------------------------------------------------------------------------


def work_dir_create(*, job_id: str, worker_id: str) -> Path:
    root = Path(settings.DSAR_EXPORT_WORK_DIR)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = root / f"{job_id.replace(':', '_')}--{_safe(worker_id)}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def work_dirs_remove(*, job_id: str) -> int:
    """Remove every work directory of a job on this host (its own and those of workers that died)."""
    root = Path(settings.DSAR_EXPORT_WORK_DIR)
    if not root.is_dir():
        return 0
    removed = 0
    for path in root.glob(f"{job_id.replace(':', '_')}--*"):
        shutil.rmtree(path, ignore_errors=True)
        removed += 1
    return removed


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:80]
