"""Settings for the API bench: the product's settings plus a bare DRF endpoint to compare against."""

from dsar_project.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"
DEBUG = False
