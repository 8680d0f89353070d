"""03.6 — Cursor pagination with signed cursors and Link headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from journey.targets import load

cp = load(__file__, "cursor_pagination")

SECRET = b"test-secret-of-this-module-32-by"
LINK = re.compile(r'<(?P<url>[^>]*)>\s*;\s*rel="(?P<rel>[^"]+)"')


def links(response: Any) -> dict[str, str]:
    """The RFC 8288 Link header as {rel: url}."""
    return {m["rel"]: m["url"] for m in LINK.finditer(response.headers.get("link", ""))}


def app_with(count: int) -> tuple[TestClient, Any]:
    store = cp.EventStore()
    for number in range(1, count + 1):
        store.add(f"event {number}")
    return TestClient(cp.create_app(store, secret=SECRET)), store


def ids(response: Any) -> list[int]:
    return [item["id"] for item in response.json()["items"]]


@given(st.integers(min_value=1, max_value=10**12))
@settings(max_examples=50, deadline=None)
def test_cursor_round_trip(last_id: int) -> None:
    cursor = cp.encode_cursor(last_id, SECRET)
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", cursor), (
        "a cursor is <payload>.<signature>, both URL-safe base64 without '=' padding"
    )
    assert cp.decode_cursor(cursor, SECRET) == last_id, "decode_cursor(encode_cursor(n)) == n"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signed(payload: str, secret: bytes = SECRET) -> str:
    signature = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(signature)}"


def test_cursor_is_signed_base64_of_json() -> None:
    cursor = cp.encode_cursor(42, SECRET)
    payload = cursor.partition(".")[0]
    assert json.loads(_unb64(payload)) == {"after": 42}, 'the payload holds {"after": last_id}'
    assert cursor == _signed(payload), (
        "the signature is base64url(HMAC-SHA256(secret, payload)), without padding"
    )


def test_an_edited_cursor_is_refused() -> None:
    payload, _, signature = cp.encode_cursor(3, SECRET).partition(".")
    moved_on = _b64(b'{"after":5}')
    edited = f"{moved_on}.{signature}"  # a client moved the cursor on, kept the signature
    with pytest.raises(cp.InvalidCursor):
        cp.decode_cursor(edited, SECRET)
    with pytest.raises(cp.InvalidCursor):
        cp.decode_cursor(payload, SECRET)  # the signature cut off
    with pytest.raises(cp.InvalidCursor):
        cp.decode_cursor(_b64(b'{"after":3}'), SECRET)  # base64 alone: anyone can make it


def test_a_cursor_signed_with_another_secret_is_refused() -> None:
    other = cp.encode_cursor(3, b"another-secret-another-secret-32")
    with pytest.raises(cp.InvalidCursor):
        cp.decode_cursor(other, SECRET)
    assert cp.decode_cursor(_signed(_b64(b'{"after":3}')), SECRET) == 3, (
        "what matters is the HMAC of the payload with this secret, however it was made"
    )


@pytest.mark.parametrize(
    ("cursor", "why"),
    [
        ("", "an empty cursor"),
        ("!!!.!!!", "not base64 at all"),
        (_signed("not base64!"), "signed, but the payload is not base64"),
        (_signed(_b64(b"not json")), "base64, but not JSON"),
        (_signed(_b64(b"[1, 2]")), "JSON, but not an object"),
        (_signed(_b64(b'{"before": 3}')), "an object without 'after'"),
        (_signed(_b64(b'{"after": "3"}')), "'after' as a string"),
        (_signed(_b64(b'{"after": true}')), "'after' as a boolean (bool is an int subclass!)"),
        (_signed(_b64(b'{"after": 0}')), "'after' below 1: no event has that id"),
        (_signed(_b64(b"\xff\xfe")), "bytes that are not UTF-8"),
        ("é.é", "not even ASCII"),
    ],
)
def test_bad_cursors_raise_invalid_cursor(cursor: str, why: str) -> None:
    with pytest.raises(cp.InvalidCursor):
        cp.decode_cursor(cursor, SECRET)
    assert issubclass(cp.InvalidCursor, ValueError), why


def test_page_after_is_keyset_based() -> None:
    events = [cp.Event(id=i, message=f"e{i}") for i in range(9, 0, -1)]  # newest first
    first, more = cp.page_after(events, None, 4)
    assert [e.id for e in first] == [9, 8, 7, 6], "the first page is the newest events"
    assert more is True, "more events follow"
    newer = [cp.Event(id=i, message=f"e{i}") for i in (11, 10)] + events
    second, more = cp.page_after(newer, 6, 4)
    assert [e.id for e in second] == [5, 4, 3, 2], "the page starts after id 6, wherever it is"
    last, more = cp.page_after(events, 2, 4)
    assert [e.id for e in last] == [1], "the last page can be short"
    assert more is False, "nothing follows the last page"
    exact, more = cp.page_after(events, 5, 4)
    assert [e.id for e in exact] == [4, 3, 2, 1]
    assert more is False, "a page that ends exactly at the end has no next page"


def test_first_page_newest_first_with_next_link() -> None:
    api, _ = app_with(7)
    response = api.get("/events", params={"limit": 3})
    assert response.status_code == 200
    assert ids(response) == [7, 6, 5], "newest first, limit items"
    body = response.json()
    assert body["next_cursor"], "a next page exists, so next_cursor is set"
    nxt = links(response).get("next")
    assert nxt, 'the response has a Link header with rel="next"'
    assert nxt.startswith("http://testserver/events?"), "the Link target is an absolute URL"
    assert "limit=3" in nxt, "the next link keeps the client's limit"
    assert f"cursor={body['next_cursor']}" in nxt, "the next link carries the next cursor"


def test_next_link_keeps_the_other_query_parameters() -> None:
    api, _ = app_with(7)
    response = api.get("/events", params={"limit": 2, "source": "web"})
    nxt = links(response).get("next", "")
    assert "source=web" in nxt, (
        "the next link keeps every query parameter of the request, not only limit: "
        f"build it with request.url.include_query_params(...), got {nxt!r}"
    )
    assert "limit=2" in nxt


def test_following_links_visits_every_event_once() -> None:
    api, _ = app_with(23)
    seen: list[int] = []
    sizes: list[int] = []
    url: str | None = "/events?limit=5"
    while url:
        response = api.get(url)
        assert response.status_code == 200
        seen += ids(response)
        sizes.append(len(ids(response)))
        url = links(response).get("next")
        assert len(sizes) < 10, "following rel=next must end"
    assert seen == list(range(23, 0, -1)), "every event exactly once, newest first"
    assert sizes == [5, 5, 5, 5, 3], "full pages, then the rest"
    last = api.get("/events", params={"limit": 5, "cursor": cp.encode_cursor(4, SECRET)})
    assert last.json()["next_cursor"] is None, "the last page has next_cursor null"
    assert "next" not in links(last), "and no rel=next link"


def test_pages_are_stable_when_events_arrive_in_between() -> None:
    api, store = app_with(10)
    first = api.get("/events", params={"limit": 4})
    assert ids(first) == [10, 9, 8, 7]
    for number in range(3):
        store.add(f"late {number}")  # ids 11, 12, 13 now sit at the front of the list
    second = api.get(links(first)["next"])
    assert ids(second) == [6, 5, 4, 3], (
        "new events must not shift the next page: an offset would repeat 9, 8, 7 here"
    )
    fresh = api.get("/events", params={"limit": 4})
    assert ids(fresh) == [13, 12, 11, 10], "a new first page shows the new events"


def test_limit_default_and_bounds() -> None:
    api, _ = app_with(cp.MAX_LIMIT + 5)
    default = api.get("/events")
    assert len(ids(default)) == cp.DEFAULT_LIMIT, "no limit means DEFAULT_LIMIT items"
    assert len(ids(api.get("/events", params={"limit": cp.MAX_LIMIT}))) == cp.MAX_LIMIT
    for bad in (0, -1, cp.MAX_LIMIT + 1):
        response = api.get("/events", params={"limit": bad})
        assert response.status_code == 422, f"limit={bad} is out of bounds: 422"


def test_a_cursor_from_another_app_is_a_400() -> None:
    store = cp.EventStore()
    for number in range(1, 8):
        store.add(f"event {number}")
    first, second = TestClient(cp.create_app(store)), TestClient(cp.create_app(store))
    cursor = first.get("/events", params={"limit": 3}).json()["next_cursor"]
    assert first.get("/events", params={"cursor": cursor}).status_code == 200
    assert second.get("/events", params={"cursor": cursor}).status_code == 400, (
        "create_app() without a secret makes its own random one: another app's cursor is "
        "refused, so no fixed secret may be built into the code"
    )
    shared = TestClient(cp.create_app(store, secret=SECRET))
    again = TestClient(cp.create_app(store, secret=SECRET))
    cursor = shared.get("/events", params={"limit": 3}).json()["next_cursor"]
    assert ids(again.get("/events", params={"cursor": cursor})) == [4, 3, 2, 1], (
        "apps given the same secret accept each other's cursors (several instances of one API)"
    )


def test_a_bad_cursor_is_a_400() -> None:
    api, _ = app_with(3)
    response = api.get("/events", params={"cursor": "garbage"})
    assert response.status_code == 400, "a cursor the server did not make is a client error"
    assert "cursor" in response.json()["detail"], "the detail says what was wrong"


def test_post_adds_an_event() -> None:
    api, _ = app_with(0)
    created = api.post("/events", json={"message": "hello"})
    assert created.status_code == 201
    assert created.json() == {"id": 1, "message": "hello"}
    assert api.post("/events", json={"message": ""}).status_code == 422, "empty message: 422"
    page = api.get("/events").json()
    assert page == {"items": [{"id": 1, "message": "hello"}], "next_cursor": None}
