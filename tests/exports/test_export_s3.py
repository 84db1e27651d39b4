"""Bundles in an S3-compatible bucket through Django's STORAGES (django-storages' S3Storage), against a real
S3 protocol server on loopback (moto in server mode, one per module), not a mock object: a job runs end to
end, the object in the bucket has the job's size and sha256, the API serves the same bytes, the TTL sweep
deletes the object, and a storage that refuses the upload fails the job leaving nothing behind.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from django.utils import timezone
from moto.server import ThreadedMotoServer

from exports.models import ExportJob
from exports.sweeps import sweep_exports
from tests.exports.conftest import bundle_json, create_job, run_job
from tests.notifications.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=False)

REGION = "eu-west-2"
CREDENTIALS = {"aws_access_key_id": "dsar-test-key", "aws_secret_access_key": "dsar-test-secret"}
PREFIX = "exports"  # settings' DSAR_EXPORT_S3_PREFIX default
SCOPE = {
    "dataSubjectId": "jane@example.org",
    "subjectIdentities": {"email": "jane@example.org"},
    "substrates": ["dsar_core", "crm"],
}


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3(s3_endpoint):
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, **CREDENTIALS)


def use_bucket(settings, endpoint: str, bucket: str) -> None:
    """The `exports` storage as settings.py builds it when DSAR_EXPORT_S3_BUCKET is set (plus keys)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": endpoint,
                "region_name": REGION,
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "location": PREFIX,
                "default_acl": None,
                "querystring_auth": False,
                "file_overwrite": False,
                "object_parameters": {},
            },
        },
    }


@pytest.fixture
def bucket(s3, s3_endpoint, settings):
    name = f"dsar-exports-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    use_bucket(settings, s3_endpoint, name)
    return name


def objects(s3, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def local_files(settings) -> list[Path]:
    found = []
    for root in (settings.DSAR_EXPORT_DIR, settings.DSAR_EXPORT_WORK_DIR):
        if Path(root).exists():
            found += [p for p in Path(root).rglob("*") if p.is_file()]
    return found


def test_a_job_stores_its_bundle_in_the_bucket_and_the_api_serves_the_same_bytes(
    exporter, crm, s3, bucket, settings
):
    job = create_job(exporter, scope=SCOPE)
    done = run_job(exporter, job["id"])["job"]
    assert done["state"] == "READY"
    delivery = done["delivery"]
    key = delivery["bundleR2Key"]
    assert objects(s3, bucket) == [f"{PREFIX}/{key}"]
    stored = s3.get_object(Bucket=bucket, Key=f"{PREFIX}/{key}")
    body = stored["Body"].read()
    assert stored["ContentLength"] == len(body) == delivery["bundleSizeBytes"]
    assert hashlib.sha256(body).hexdigest() == delivery["bundleSha256"]
    assert local_files(settings) == []  # the work copy is gone; nothing was written locally

    response = exporter.get(f"/v1/compliance/dsar/{job['id']}/download")
    assert response.status_code == 200
    served = b"".join(response.streaming_content)
    assert served == body
    digest = hashlib.sha256(served).digest()
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Length"] == str(len(body))
    assert response["Repr-Digest"] == f"sha-256=:{base64.b64encode(digest).decode()}:"
    assert response["ETag"] == f'"{digest.hex()}"'
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Disposition"].startswith("attachment")
    manifest = bundle_json(served, "manifest.json")
    assert manifest["jobId"] == job["id"]
    assert {f["section"] for f in manifest["files"]} >= {"crm.customers", "crm.orders", "dsar_core.requests"}

    # A token alone downloads the same bytes from the bucket.
    url = exporter.get(f"/v1/compliance/dsar/{job['id']}").json()["data"]["job"]["delivery"]["bundleUrl"]
    by_link = exporter.api.get(url.removeprefix("http://testserver"))
    assert by_link.status_code == 200 and b"".join(by_link.streaming_content) == body


def test_the_ttl_sweep_deletes_the_object_for_ready_and_delivered_jobs(exporter, crm, s3, bucket):
    ready = create_job(exporter, scope=SCOPE)
    delivered = create_job(exporter, scope=SCOPE)
    run_job(exporter, ready["id"])
    run_job(exporter, delivered["id"])
    assert exporter.get(f"/v1/compliance/dsar/{delivered['id']}/download").status_code == 200
    assert len(objects(s3, bucket)) == 2
    ExportJob.objects.filter(pk__in=[ready["id"], delivered["id"]]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    result = sweep_exports(now=timezone.now())
    assert (result.expired, result.deleted) == (1, 2)
    assert objects(s3, bucket) == []
    states = dict(ExportJob.objects.values_list("pk", "state"))
    assert states == {ready["id"]: "EXPIRED", delivered["id"]: "DELIVERED"}
    for job in (ready, delivered):
        after = exporter.get(f"/v1/compliance/dsar/{job['id']}").json()["data"]["job"]
        assert after["delivery"]["bundleUrl"] is None
        assert exporter.get(f"/v1/compliance/dsar/{job['id']}/download").status_code == 409
    assert sweep_exports(now=timezone.now()).deleted == 0  # a second sweep has nothing to do


def test_a_bucket_that_refuses_the_upload_fails_the_job_and_leaves_nothing(
    exporter, crm, s3, s3_endpoint, settings
):
    missing = f"dsar-missing-{uuid.uuid4().hex[:12]}"  # never created: every PUT is refused (NoSuchBucket)
    use_bucket(settings, s3_endpoint, missing)
    job = create_job(exporter, scope=SCOPE)
    response = exporter.post(f"/v1/compliance/dsar/{job['id']}/run")
    assert response.status_code == 200
    failed = response.json()["data"]["job"]
    assert failed["state"] == "FAILED"
    message = failed["failure"]["message"]
    assert message == "Storing the bundle failed: storage error (NoSuchBucket)."
    for leaked in (missing, s3_endpoint, "127.0.0.1", CREDENTIALS["aws_secret_access_key"], "Jane"):
        assert leaked not in message
    assert failed["delivery"]["bundleR2Key"] is None
    assert local_files(settings) == []
    assert missing not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
