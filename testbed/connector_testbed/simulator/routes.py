"""The `/v2` routes: each one takes a parsed request and returns (status, JSON-able body)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from connector_testbed.simulator import bulktree, keys
from connector_testbed.simulator.apierror import ApiError
from connector_testbed.simulator.attributecheck import AttributeCheck
from connector_testbed.simulator.catalogue import DATA_TYPES
from connector_testbed.simulator.faults import Switchboard
from connector_testbed.simulator.store import Caller, Store
from connector_testbed.simulator.types import COMPATIBLE_CHILDREN, KINDS, types_of_kind

MAX_LIMIT = 5000
DEFAULT_LIMIT = 20


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    base_url: str  # scheme://host, for next_page
    caller: Caller
    store: Store
    switches: Switchboard
    mid_batch_failure: bool = False


Handler = Callable[[Request, "re.Match[str]"], tuple[int, Any]]


def _int_param(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"'{name}' must be an integer") from None
    if not low <= value <= high:
        raise ApiError(400, f"'{name}' must be between {low} and {high}")
    return value


def _bool_param(query: dict[str, str], name: str) -> bool:
    raw = query.get(name)
    if raw is None:
        return False
    if raw not in ("true", "false"):
        raise ApiError(400, f"'{name}' accepts only true or false")
    return raw == "true"


def _paged(request: Request, items_or_page: tuple[list[Any], int], limit: int, page: int) -> dict[str, Any]:
    results, total_sum = items_or_page
    pages = max((total_sum + limit - 1) // limit, 1) if total_sum else 0
    next_page = None
    if page < pages:
        params = dict(request.query) | {"limit": str(limit), "page": str(page + 1)}
        next_page = f"{request.base_url}{request.path}?{urlencode(params)}"
    return {
        "pages": pages,
        "total": len(results),
        "total_sum": total_sum,
        "next_page": next_page,
        "results": results,
    }


def _paging(query: dict[str, str]) -> tuple[int, int]:
    limit = _int_param(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    page = _int_param(query, "page", 1, 1, 10**9)
    return limit, page


def list_workspaces(request: Request, _: re.Match[str]) -> tuple[int, Any]:
    projects = request.store.workspaces(request.caller, request.query.get("name"))
    return 200, {"organizations": [], "projects": projects}


def list_versions(request: Request, match: re.Match[str]) -> tuple[int, Any]:
    limit, page = _paging(request.query)
    versions = request.store.versions(request.caller, match["workspace"])
    chunk = versions[(page - 1) * limit : page * limit]
    return 200, _paged(request, (chunk, len(versions)), limit, page)


def list_types(request: Request, match: re.Match[str]) -> tuple[int, Any]:
    return 200, [
        {"type": t, "compatibleChildren": list(COMPATIBLE_CHILDREN[t]), "links": []}
        for t in types_of_kind(match["kind"])
    ]


def _check(request: Request) -> AttributeCheck:
    drop = request.switches.limits.unknown_attributes == "drop"
    return AttributeCheck(request.store.metamodel(), "drop" if drop else "refuse")


def list_technologies(request: Request, _: re.Match[str]) -> tuple[int, Any]:
    """`GET /technologies`: the spec's `GetTechnologiesResult`."""
    technologies = [
        {
            "displayName": name,
            "technologyCode": code,
            "modules": ["Catalog"],
            "description": "",
        }
        for code, name in request.store.metamodel().technologies
    ]
    return 200, {"total": len(technologies), "technologies": technologies}


def _data_type(query: dict[str, str], required: bool) -> str | None:
    data_type = query.get("dataType")
    if data_type is None:
        if required:
            raise ApiError(400, "'dataType' is required")
        return None
    if data_type not in DATA_TYPES:
        raise ApiError(400, f"'dataType' must be one of {', '.join(DATA_TYPES)}")
    return data_type


def list_attributes(request: Request, _: re.Match[str]) -> tuple[int, Any]:
    """`GET /attributes?dataType=`: the attributes a dataType may carry (Common ones included)."""
    data_type = _data_type(request.query, required=False)
    return 200, [a.describe() for a in request.store.metamodel().attributes(data_type)]


def list_attribute_values(request: Request, _: re.Match[str]) -> tuple[int, Any]:
    data_type = _data_type(request.query, required=True)
    assert data_type is not None
    key = request.query.get("attributeKey")
    if not key:
        raise ApiError(400, "'attributeKey' is required")
    values = request.store.metamodel().values(data_type, key)
    if values is None:
        raise ApiError(404, f"Attribute '{key}' not found for dataType {data_type}")
    return 200, values


def create_attribute(request: Request, match: re.Match[str]) -> tuple[int, Any]:
    return 201, request.store.create_attribute(match["datatype"], request.body)


def post_bulktree(request: Request, match: re.Match[str]) -> tuple[int, Any]:
    version_id = match["version"]
    request.store.check_version(request.caller, version_id)
    nodes = bulktree.flatten(request.body, request.switches.limits.max_entities, _check(request))
    if request.mid_batch_failure:
        bulktree.upsert(request.store.db, version_id, nodes, stop_after=max(len(nodes) // 2, 1))
        raise ApiError(500, "Internal server error while importing the tree")
    return 200, bulktree.upsert(request.store.db, version_id, nodes)


def post_source(request: Request, match: re.Match[str]) -> tuple[int, Any]:
    version_id = match["version"]
    request.store.check_version(request.caller, version_id)
    source_id = bulktree.create_source(request.store.db, version_id, request.body, _check(request))
    return 201, {"id": source_id, "location": f"/sources/{version_id}/{source_id}"}


def _refuse_poisoned_rows(request: Request) -> None:
    """The `refused_keys` fault: a row the service refuses for a reason the client cannot foresee."""
    poisoned = set(request.switches.faults.refused_keys)
    if not poisoned or not isinstance(request.body, list):
        return
    for number, row in enumerate(request.body, start=1):
        name = row.get("pkName") or row.get("fkTechnicalName") if isinstance(row, dict) else None
        if name in poisoned:
            raise ApiError(400, f"Row {number}: key '{name}' cannot be imported")


def put_keys(request: Request, match: re.Match[str]) -> tuple[int, Any]:
    version_id, source_id = match["version"], match["source"]
    request.store.check_version(request.caller, version_id)
    _refuse_poisoned_rows(request)
    if match["which"] == "primaryKeys":
        return 200, keys.put_primary_keys(request.store.db, version_id, source_id, request.body)
    composite = request.switches.limits.composite_foreign_keys
    return 200, keys.put_foreign_keys(request.store.db, version_id, source_id, request.body, composite)


def get_keys(request: Request, match: re.Match[str]) -> tuple[int, Any]:
    version_id, source_id = match["version"], match["source"]
    request.store.check_version(request.caller, version_id)
    if match["which"] == "primaryKeys":
        return 200, keys.get_primary_keys(request.store.db, version_id, source_id)
    return 200, keys.get_foreign_keys(request.store.db, version_id, source_id)


def delete_key(request: Request, match: re.Match[str]) -> tuple[int, Any]:
    version_id = match["version"]
    request.store.check_version(request.caller, version_id)
    return 200, keys.delete_key(request.store.db, version_id, match["source"], match["which"], match["id"])


def list_kind(request: Request, match: re.Match[str]) -> tuple[int, Any]:
    kind = match["kind"]
    version_id = request.query.get("versionId")
    if not version_id:
        raise ApiError(400, "'versionId' is required")
    request.store.check_version(request.caller, version_id)
    limit, page = _paging(request.query)
    include_attributes = _bool_param(request.query, "includeAttributes")
    for flag in ("includeLinks", "includeAccessData"):
        _bool_param(request.query, flag)
    filters = {
        column: request.query[param]
        for param, column in (("name", "name"), ("technicalName", "technical_name"), ("type", "type"))
        if param in request.query
    }
    parent_id = request.query.get("parentId") if kind != "sources" else None
    page_items = request.store.list_entities(
        kind,
        version_id,
        parent_id,
        filters=filters,
        include_attributes=include_attributes,
        limit=limit,
        offset=(page - 1) * limit,
    )
    return 200, _paged(request, page_items, limit, page)


def get_one(request: Request, match: re.Match[str]) -> tuple[int, Any]:
    request.store.check_version(request.caller, match["version"])
    return 200, request.store.get_entity(match["kind"], match["version"], match["id"])


def delete_bulk(request: Request, match: re.Match[str]) -> tuple[int, Any]:
    version_id = match["version"]
    request.store.check_version(request.caller, version_id)
    deleted = request.store.delete_bulk(match["kind"], version_id, request.body)
    return 200, {"totalDeleted": deleted}


_KIND = "(?P<kind>" + "|".join(KINDS) + ")"
_ID = r"[^/]+"
_KEYS = rf"/v2/sources/(?P<version>{_ID})/(?P<source>{_ID})/(?P<which>primaryKeys|foreignKeys)"
_KEY = rf"/v2/sources/(?P<version>{_ID})/(?P<source>{_ID})/(?P<which>foreignKey|privateKey)/(?P<id>{_ID})"

ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("GET", re.compile(r"/v2/workspaces"), list_workspaces),
    ("GET", re.compile(r"/v2/technologies"), list_technologies),
    ("GET", re.compile(r"/v2/attributes"), list_attributes),
    ("GET", re.compile(r"/v2/attributes/values"), list_attribute_values),
    ("POST", re.compile(rf"/v2/attributes/(?P<datatype>{_ID})"), create_attribute),
    ("GET", re.compile(rf"/v2/workspaces/(?P<workspace>{_ID})/versions"), list_versions),
    ("GET", re.compile(rf"/v2/{_KIND}/types"), list_types),
    ("POST", re.compile(rf"/v2/sources/bulktree/(?P<version>{_ID})"), post_bulktree),
    ("POST", re.compile(rf"/v2/sources/(?P<version>{_ID})"), post_source),
    ("PUT", re.compile(_KEYS), put_keys),
    ("GET", re.compile(_KEYS), get_keys),
    ("DELETE", re.compile(_KEY), delete_key),
    ("GET", re.compile(rf"/v2/{_KIND}"), list_kind),
    ("DELETE", re.compile(rf"/v2/{_KIND}/bulk/(?P<version>{_ID})"), delete_bulk),
    ("GET", re.compile(rf"/v2/{_KIND}/(?P<version>{_ID})/(?P<id>{_ID})"), get_one),
]


def dispatch(request: Request) -> tuple[int, Any]:
    allowed = False
    for method, pattern, handler in ROUTES:
        match = pattern.fullmatch(request.path)
        if match is None:
            continue
        if method != request.method:
            allowed = True
            continue
        return handler(request, match)
    if allowed:
        raise ApiError(405, f"Method {request.method} not allowed on {request.path}")
    raise ApiError(404, f"No route {request.path}")
