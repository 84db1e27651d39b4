"""The exports pages of the officers' workspace, registered here; the rest of the package does the work.

- `jobs`: the export jobs list and each job's page, with its Run, Download and Revoke links buttons;
- `from_request`: “Export the subject's data” from an access or portability request;
- `substrates`: the org's data sources, registered through their mapping JSON and checked live;
- `presenters`: states, sizes and times in words (the workspace's one date formatter).

Reads go through the org-scoped admin querysets (`core.admin`); every write is the service the API calls.
"""

from __future__ import annotations

from .jobs import ExportJobAdmin
from .substrates import SubstrateAdmin

__all__ = ["ExportJobAdmin", "SubstrateAdmin"]
