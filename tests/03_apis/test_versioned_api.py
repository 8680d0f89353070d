"""03.5 — v1 and v2 of one resource, with a breaking change."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from journey.targets import load

va = load(__file__, "versioned_api")


def client(store: Any = None) -> TestClient:
    return TestClient(va.create_app(store))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ada Lovelace", ("Ada", "Lovelace")),
        ("Ada King Lovelace", ("Ada", "King Lovelace")),
        ("  Ada   King  Lovelace ", ("Ada", "King Lovelace")),
        ("Cher", ("Cher", "")),
    ],
)
def test_split_name(name: str, expected: tuple[str, str]) -> None:
    assert va.split_name(name) == expected, "first word, then the rest, single-spaced"


def test_join_name() -> None:
    assert va.join_name(va.Customer(1, "Ada", "Lovelace")) == "Ada Lovelace"
    assert va.join_name(va.Customer(2, "Cher", "")) == "Cher", "no trailing space for no surname"


def test_v1_speaks_name_and_v2_speaks_first_and_last() -> None:
    api = client()
    v1 = api.post("/api/v1/customers", json={"name": "Ada Lovelace"})
    assert v1.status_code == 201, "POST /api/v1/customers answers 201"
    assert v1.json() == {"id": 1, "name": "Ada Lovelace"}, "v1 returns one name"
    assert v1.headers.get("location") == "/api/v1/customers/1", "Location stays in v1"

    v2 = api.post("/api/v2/customers", json={"first_name": "Grace", "last_name": "Hopper"})
    assert v2.status_code == 201, "POST /api/v2/customers answers 201"
    assert v2.json() == {"id": 2, "first_name": "Grace", "last_name": "Hopper"}
    assert v2.headers.get("location") == "/api/v2/customers/2", "Location stays in v2"


def test_both_versions_see_the_same_store() -> None:
    api = client()
    api.post("/api/v1/customers", json={"name": "Ada King Lovelace"})
    api.post("/api/v2/customers", json={"first_name": "Grace", "last_name": "Hopper"})
    assert api.get("/api/v2/customers/1").json() == {
        "id": 1,
        "first_name": "Ada",
        "last_name": "King Lovelace",
    }, "a customer created through v1 reads through v2, its name split"
    assert api.get("/api/v1/customers/2").json() == {"id": 2, "name": "Grace Hopper"}, (
        "a customer created through v2 reads through v1, its names joined"
    )
    assert [c["name"] for c in api.get("/api/v1/customers").json()] == [
        "Ada King Lovelace",
        "Grace Hopper",
    ]
    assert [c["last_name"] for c in api.get("/api/v2/customers").json()] == [
        "King Lovelace",
        "Hopper",
    ]


def test_a_given_store_is_used() -> None:
    store = va.CustomerStore()
    store.add("Alan", "Turing")
    assert client(store).get("/api/v1/customers/1").json() == {"id": 1, "name": "Alan Turing"}


def test_the_breaking_change_is_enforced_per_version() -> None:
    api = client()
    old_shape = api.post("/api/v2/customers", json={"name": "Ada Lovelace"})
    assert old_shape.status_code == 422, "v2 no longer accepts the v1 'name' field"
    new_shape = api.post("/api/v1/customers", json={"first_name": "A", "last_name": "B"})
    assert new_shape.status_code == 422, "v1 does not accept v2 fields"
    blank = api.post("/api/v2/customers", json={"first_name": "Ada", "last_name": " "})
    assert blank.status_code == 422, "v2 requires a non-blank last_name"
    assert api.get("/api/v2/customers").json() == [], "refused requests store nothing"


def test_v1_responses_announce_their_deprecation() -> None:
    api = client()
    created = api.post("/api/v1/customers", json={"name": "Ada Lovelace"})
    for response in (created, api.get("/api/v1/customers"), api.get("/api/v1/customers/1")):
        assert response.headers.get("deprecation") == va.V1_DEPRECATION, (
            "every v1 response carries the RFC 9745 Deprecation header"
        )
        assert response.headers.get("link") == va.V1_SUCCESSOR_LINK, (
            'every v1 response links to v2 with rel="successor-version"'
        )
    v2 = api.get("/api/v2/customers/1")
    assert "deprecation" not in v2.headers, "v2 is current: no Deprecation header"


def test_unknown_customer_is_404_in_both_versions() -> None:
    api = client()
    assert api.get("/api/v1/customers/9").status_code == 404
    assert api.get("/api/v2/customers/9").status_code == 404


def test_openapi_shows_both_versions_and_marks_v1_deprecated() -> None:
    paths = va.create_app().openapi()["paths"]
    for prefix in ("/api/v1", "/api/v2"):
        assert f"{prefix}/customers" in paths, f"{prefix}/customers is documented"
        assert f"{prefix}/customers/{{customer_id}}" in paths
    assert paths["/api/v1/customers"]["get"].get("deprecated") is True, (
        "APIRouter(deprecated=True) marks v1 deprecated in the docs"
    )
    assert not paths["/api/v2/customers"]["get"].get("deprecated", False)
