"""The DataGalaxy API client: target resolution and the idempotent push of an extraction.

with DataGalaxyClient(api_url, token, budget_seconds=600.0, requests_per_second=8.0) as client:
    resolved = resolve_target(client, target)
    outcome = push_metadata(client, resolved, metadata, target, missing_objects="report",
                            previous_content_hash=None)
"""

from connector_extractors.datagalaxy.client import DataGalaxyClient
from connector_extractors.datagalaxy.push import PushOutcome, push_metadata
from connector_extractors.datagalaxy.target import ResolvedTarget, resolve_target

__all__ = ["DataGalaxyClient", "PushOutcome", "ResolvedTarget", "push_metadata", "resolve_target"]
