"""The simulator's own contract, route by route, with a plain HTTP client: what the real API documents."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from connector_testbed.simulator import VALID_TOKEN, SimulatorServer

pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {VALID_TOKEN}"}
# What a listing answers for each object (without includeAttributes).
LISTED = {"id", "name", "technicalName", "type", "dataType", "versionId", "path", "typePath"}
LISTED |= {"creationTime", "lastModificationTime"}


def _version(sim: SimulatorServer) -> str:
    return sim.seed.workspaces[0].version_id("1")


def _call(sim: SimulatorServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    kwargs.setdefault("headers", AUTH)
    return httpx.request(method, sim.url + path, timeout=30, **kwargs)


def _tree() -> dict[str, Any]:
    return {
        "name": "Shop DB",
        "technicalName": "shop",
        "type": "Relational",
        "children": [
            {
                "name": "sales",
                "type": "Model",
                "children": [
                    {"name": "orders", "type": "Table", "children": [{"name": "id", "type": "Column"}]}
                ],
            }
        ],
    }


def _assert_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["status"] == status
    assert isinstance(body["error"]["message"], str)
    return str(body["error"]["message"])


def test_workspaces_are_listed_under_projects(datagalaxy_simulator: SimulatorServer) -> None:
    response = _call(datagalaxy_simulator, "GET", "/workspaces")
    assert response.headers["X-RateLimit-Remaining"].isdigit()
    body = response.json()
    assert body["organizations"] == []
    demo, versioned = body["projects"]
    assert (demo["name"], demo["isVersioningEnabled"], demo["defaultVersionName"]) == ("Demo", False, "1")
    assert (versioned["name"], versioned["isVersioningEnabled"]) == ("Versioned", True)
    assert ":" in demo["id"]
    named = _call(datagalaxy_simulator, "GET", "/workspaces", params={"name": "Versioned"}).json()
    assert [p["name"] for p in named["projects"]] == ["Versioned"]


def test_types_list_compatible_children(datagalaxy_simulator: SimulatorServer) -> None:
    body = _call(datagalaxy_simulator, "GET", "/structures/types").json()
    table = next(t for t in body if t["type"] == "Table")
    assert table["compatibleChildren"] == ["Column"]
    assert {t["type"] for t in _call(datagalaxy_simulator, "GET", "/sources/types").json()} == {
        "Relational",
        "NonRelational",
        "NoSql",
        "TagBase",
    }


def test_bulktree_answers_a_bulk_result_and_objects_expose_paths(
    datagalaxy_simulator: SimulatorServer,
) -> None:
    version = _version(datagalaxy_simulator)
    result = _call(datagalaxy_simulator, "POST", f"/sources/bulktree/{version}", json=_tree()).json()
    assert result == {"total": 4, "created": 4, "updated": 0, "deleted": 0, "unchanged": 0}
    page = _call(
        datagalaxy_simulator, "GET", "/fields", params={"versionId": version, "includeAttributes": "true"}
    ).json()
    assert set(page) == {"pages", "total", "total_sum", "next_page", "results"}
    [field] = page["results"]
    assert field["path"] == "\\shop\\sales\\orders\\id"
    assert field["typePath"] == "\\Relational\\Model\\Table\\Column"
    assert field["dataType"] == "Field"
    assert field["attributes"] == {}
    one = _call(datagalaxy_simulator, "GET", f"/fields/{version}/{field['id']}").json()
    assert one["technicalName"] == "id"


def test_bulktree_uses_technical_names_for_paths_and_keeps_display_names(
    datagalaxy_simulator: SimulatorServer,
) -> None:
    version = _version(datagalaxy_simulator)
    _call(datagalaxy_simulator, "POST", f"/sources/bulktree/{version}", json=_tree())
    renamed = _tree() | {"name": "Shop database"}
    result = _call(datagalaxy_simulator, "POST", f"/sources/bulktree/{version}", json=renamed).json()
    assert (result["updated"], result["created"]) == (1, 0)
    [source] = _call(datagalaxy_simulator, "GET", "/sources", params={"versionId": version}).json()["results"]
    assert (source["name"], source["technicalName"], source["path"]) == ("Shop database", "shop", "\\shop")


def _all_pages(sim: SimulatorServer, kind: str, **params: str) -> tuple[list[dict[str, Any]], set[int]]:
    results: list[dict[str, Any]] = []
    totals = set()
    for page in range(1, 100):
        body = _call(sim, "GET", f"/{kind}", params={**params, "limit": "2", "page": str(page)}).json()
        results += body["results"]
        totals.add(body["total_sum"])
        if body["next_page"] is None:
            return results, totals
    raise AssertionError("endless paging")


def test_listings_under_a_source_a_container_or_a_version_agree(
    datagalaxy_simulator: SimulatorServer,
) -> None:
    version = _version(datagalaxy_simulator)
    other = datagalaxy_simulator.seed.workspaces[1].version_id("v1")
    shop = _tree()
    shop["children"][0]["children"] += [
        {"name": "items", "type": "Table", "children": [{"name": n, "type": "Column"} for n in "zyx"]},
        {"name": "v", "type": "View", "children": [{"name": "id", "type": "Column", "description": "d"}]},
    ]
    shop["children"].append({"name": "archive", "type": "Model", "children": [_tree()["children"][0]]})
    for body, where in ((shop, version), (_tree() | {"technicalName": "depot"}, version), (shop, other)):
        assert _call(datagalaxy_simulator, "POST", f"/sources/bulktree/{where}", json=body).is_success
    sources, _ = _all_pages(datagalaxy_simulator, "sources", versionId=version)
    assert [s["technicalName"] for s in sources] == ["depot", "shop"]
    [shop_source] = [s for s in sources if s["technicalName"] == "shop"]
    named, totals = _all_pages(
        datagalaxy_simulator, "sources", versionId=version, technicalName="shop", type="Relational"
    )
    assert ([s["id"] for s in named], totals) == ([shop_source["id"]], {1})

    fields, totals = _all_pages(datagalaxy_simulator, "fields", versionId=version, parentId=shop_source["id"])
    assert totals == {len(fields)} == {6}
    assert [f["path"] for f in fields] == sorted(f["path"] for f in fields)
    assert {(f["dataType"], f["versionId"], f["type"]) for f in fields} == {("Field", version, "Column")}
    assert all(set(f) == LISTED for f in fields)
    with_attributes, _ = _all_pages(
        datagalaxy_simulator,
        "fields",
        versionId=version,
        parentId=shop_source["id"],
        includeAttributes="true",
    )
    assert [f.pop("attributes") for f in with_attributes] == [{}] * 5 + [{"description": "d"}]
    assert with_attributes == fields

    [archive] = [
        c
        for c in _all_pages(
            datagalaxy_simulator, "containers", versionId=version, parentId=shop_source["id"]
        )[0]
        if c["technicalName"] == "archive"
    ]
    under_archive, totals = _all_pages(
        datagalaxy_simulator, "fields", versionId=version, parentId=archive["id"]
    )
    assert [f["path"] for f in under_archive] == ["\\shop\\archive\\sales\\orders\\id"]
    assert totals == {1}
    everywhere, totals = _all_pages(datagalaxy_simulator, "fields", versionId=version)
    assert totals == {7}
    assert [f for f in everywhere if not f["path"].startswith("\\depot")] == fields


def test_a_single_source_is_created_with_201_once(datagalaxy_simulator: SimulatorServer) -> None:
    version = _version(datagalaxy_simulator)
    body = {"name": "empty", "type": "Relational"}
    created = _call(datagalaxy_simulator, "POST", f"/sources/{version}", json=body)
    assert created.status_code == 201
    assert set(created.json()) == {"id", "location"}
    assert "already exists" in _assert_error(
        _call(datagalaxy_simulator, "POST", f"/sources/{version}", json=body), 400
    )


def test_bulk_delete_counts_children(datagalaxy_simulator: SimulatorServer) -> None:
    version = _version(datagalaxy_simulator)
    _call(datagalaxy_simulator, "POST", f"/sources/bulktree/{version}", json=_tree())
    [model] = _call(datagalaxy_simulator, "GET", "/containers", params={"versionId": version}).json()[
        "results"
    ]
    deleted = _call(datagalaxy_simulator, "DELETE", f"/containers/bulk/{version}", json=[model["id"], "nope"])
    assert deleted.json() == {"totalDeleted": 3}
    assert (
        _call(datagalaxy_simulator, "GET", "/fields", params={"versionId": version}).json()["total_sum"] == 0
    )


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/nothing", {}, 404),
        ("PATCH", "/workspaces", {}, 501),
        ("DELETE", "/workspaces", {}, 405),
        ("GET", "/fields", {}, 400),
        ("POST", "/sources/bulktree/{version}", {"content": b"{not json"}, 400),
        ("POST", "/sources/bulktree/00000000-0000-0000-0000-000000000000", {"json": _tree()}, 404),
        ("GET", "/workspaces", {"headers": {}}, 401),
        ("GET", "/workspaces", {"headers": {"Authorization": "Basic abc"}}, 401),
    ],
)
def test_errors_use_the_documented_body(
    datagalaxy_simulator: SimulatorServer, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    response = _call(
        datagalaxy_simulator, method, path.format(version=_version(datagalaxy_simulator)), **kwargs
    )
    if status == 501:  # the stdlib server answers unknown verbs itself
        assert response.status_code == 501
        return
    _assert_error(response, status)


@pytest.mark.parametrize(
    "content", [b"{not json", b'{"name":"db"} x', b'{"name":NaN}', b'{"name":"db","x":1e400}', b"\xff"]
)
def test_a_body_that_is_not_json_is_refused(datagalaxy_simulator: SimulatorServer, content: bytes) -> None:
    path = f"/sources/bulktree/{_version(datagalaxy_simulator)}"
    response = _call(datagalaxy_simulator, "POST", path, content=content)
    assert _assert_error(response, 400) == "The body is not valid JSON"


def test_names_outside_ascii_come_back_as_sent(datagalaxy_simulator: SimulatorServer) -> None:
    version = _version(datagalaxy_simulator)
    tree = _tree() | {"name": "Boutique été ☃", "description": "ça 😀"}
    with_bom = b"\xef\xbb\xbf" + json.dumps(tree).encode()  # read as the stdlib reads it
    assert _call(datagalaxy_simulator, "POST", f"/sources/bulktree/{version}", content=with_bom).is_success
    [source] = _call(
        datagalaxy_simulator, "GET", "/sources", params={"versionId": version, "includeAttributes": "true"}
    ).json()["results"]
    assert (source["name"], source["attributes"]["description"]) == ("Boutique été ☃", "ça 😀")


def test_primary_key_rows_must_name_existing_tables_and_columns(
    datagalaxy_simulator: SimulatorServer,
) -> None:
    version = _version(datagalaxy_simulator)
    _call(datagalaxy_simulator, "POST", f"/sources/bulktree/{version}", json=_tree())
    [source] = _call(datagalaxy_simulator, "GET", "/sources", params={"versionId": version}).json()["results"]
    path = f"/sources/{version}/{source['id']}/primaryKeys"
    row = {"tablePath": "\\sales\\orders", "columnName": "id", "pkName": "pk", "pkOrder": 1}
    for bad, message in (
        ({"tablePath": "\\sales\\nope"}, "not found"),
        ({"columnName": "x"}, "not found"),
        ({"pkOrder": 0}, "positive"),
        ({"tablePath": "sales/orders"}, "relative"),
    ):
        assert message in _assert_error(_call(datagalaxy_simulator, "PUT", path, json=[row | bad]), 400)
    assert _call(datagalaxy_simulator, "PUT", path, json=[row]).json()["created"] == 1
    assert _call(datagalaxy_simulator, "PUT", path, json=[row]).json()["unchanged"] == 1
    [pk] = _call(datagalaxy_simulator, "GET", path).json()
    assert (pk["technicalName"], pk["table"]["technicalName"], pk["columns"][0]["pkOrder"]) == (
        "pk",
        "orders",
        1,
    )


def test_keys_are_deleted_one_by_one(datagalaxy_simulator: SimulatorServer) -> None:
    version = _version(datagalaxy_simulator)
    _call(datagalaxy_simulator, "POST", f"/sources/bulktree/{version}", json=_tree())
    [source] = _call(datagalaxy_simulator, "GET", "/sources", params={"versionId": version}).json()["results"]
    base = f"/sources/{version}/{source['id']}"
    row = {"tablePath": "\\sales\\orders", "columnName": "id", "pkName": "pk", "pkOrder": 1}
    _call(datagalaxy_simulator, "PUT", f"{base}/primaryKeys", json=[row])
    [pk] = _call(datagalaxy_simulator, "GET", f"{base}/primaryKeys").json()
    column_id = pk["columns"][0]["id"]
    assert _call(datagalaxy_simulator, "DELETE", f"{base}/privateKey/{column_id}").json() == {
        "totalDeleted": 1
    }
    assert _call(datagalaxy_simulator, "GET", f"{base}/primaryKeys").json() == []
    _assert_error(_call(datagalaxy_simulator, "DELETE", f"{base}/privateKey/{column_id}"), 404)
    _assert_error(_call(datagalaxy_simulator, "DELETE", f"{base}/foreignKey/nope"), 404)


def test_a_bad_content_length_is_refused_not_waited_for(datagalaxy_simulator: SimulatorServer) -> None:
    import socket

    with socket.create_connection(("127.0.0.1", datagalaxy_simulator.port), timeout=5) as conn:
        conn.sendall(
            f"POST /v2/sources/bulktree/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {VALID_TOKEN}\r\n"
            "Content-Length: -5\r\n\r\n".encode()
        )
        chunks = []
        while chunk := conn.recv(4096):  # the server closes the connection after answering
            chunks.append(chunk)
        answer = b"".join(chunks).decode()
    assert answer.startswith("HTTP/1.1 400")
    assert "Invalid Content-Length" in answer


def test_technologies_and_attributes_describe_the_client_space(datagalaxy_simulator: SimulatorServer) -> None:
    technologies = _call(datagalaxy_simulator, "GET", "/technologies").json()
    assert technologies["total"] == len(technologies["technologies"])
    assert {"technologyCode": "postgresql", "displayName": "PostgreSQL"}.items() <= technologies[
        "technologies"
    ][0].items()
    fields = _call(datagalaxy_simulator, "GET", "/attributes", params={"dataType": "Field"}).json()
    keys = {a["attributeKey"]: a for a in fields}
    assert {"columnDataType", "size", "dataTypePrecisionSize", "isMandatory", "order", "description"} <= set(
        keys
    )
    assert "isNullable" not in keys
    assert "technologyCode" not in keys
    assert [v["value"] for v in keys["columnDataType"]["values"]][:2] == ["VariableString", "FixedString"]
    assert keys["Data quality score"]["isCustom"] is True
    statuses = _call(
        datagalaxy_simulator,
        "GET",
        "/attributes/values",
        params={"dataType": "Field", "attributeKey": "status"},
    ).json()
    assert [v["value"] for v in statuses] == [
        "Proposed",
        "InRevision",
        "InValidation",
        "Validated",
        "Obsolete",
    ]
    assert "dataType" in _assert_error(
        _call(datagalaxy_simulator, "GET", "/attributes", params={"dataType": "Column"}), 400
    )


def test_foreign_key_rows_must_name_the_referred_primary_key(datagalaxy_simulator: SimulatorServer) -> None:
    version = _version(datagalaxy_simulator)
    tree = _tree()
    tree["children"][0]["children"].append(
        {"name": "lines", "type": "Table", "children": [{"name": "order_id", "type": "Column"}]}
    )
    assert _call(datagalaxy_simulator, "POST", f"/sources/bulktree/{version}", json=tree).status_code == 200
    source = _call(datagalaxy_simulator, "GET", "/sources", params={"versionId": version}).json()["results"][
        0
    ]
    keys = f"/sources/{version}/{source['id']}"
    pk = [{"tablePath": "\\sales\\orders", "columnName": "id", "pkName": "orders_pk", "pkOrder": 1}]
    assert _call(datagalaxy_simulator, "PUT", f"{keys}/primaryKeys", json=pk).status_code == 200
    good = {
        "fkTechnicalName": "lines_fk",
        "fkDisplayName": "lines_fk",
        "pkTechnicalName": "orders_pk",
        "pkTablePath": "\\sales\\orders",
        "pkColumnName": "id",
        "fkTablePath": "\\sales\\lines",
        "fkColumnName": "order_id",
    }
    for change, message in (
        ({"pkTechnicalName": ""}, "pkTechnicalName is required"),
        ({"fkDisplayName": None}, "fkDisplayName is required"),
        ({"pkTechnicalName": "other_pk"}, "primary key 'other_pk' not found"),
        ({"pkTablePath": "\\sales\\lines", "pkColumnName": "order_id"}, "not found on table"),
    ):
        refused = _call(datagalaxy_simulator, "PUT", f"{keys}/foreignKeys", json=[good | change])
        assert message in _assert_error(refused, 400)
    assert _call(datagalaxy_simulator, "PUT", f"{keys}/foreignKeys", json=[good]).json()["created"] == 1


def test_a_huge_body_is_a_gateway_timeout_and_429_has_no_retry_after(
    datagalaxy_simulator: SimulatorServer,
) -> None:
    datagalaxy_simulator.set_limits(gateway_timeout_bytes=1000)
    version = _version(datagalaxy_simulator)
    tree = _tree() | {"description": "x" * 2000}
    answer = _call(datagalaxy_simulator, "POST", f"/sources/bulktree/{version}", json=tree)
    assert answer.status_code == 504
    assert answer.headers["Content-Type"] == "text/html"
    datagalaxy_simulator.set_faults(rate_limit_next=1)
    limited = _call(datagalaxy_simulator, "GET", "/workspaces")
    assert limited.status_code == 429
    assert "Retry-After" not in limited.headers
