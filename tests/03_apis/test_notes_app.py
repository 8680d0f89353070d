"""03.2 — Dependencies: a database and a current user that tests can replace."""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from journey.targets import load

notes = load(__file__, "notes_app")

ADA = {"Authorization": "Bearer token-ada"}
BOB = {"Authorization": "Bearer token-bob"}
TIMING = re.compile(r"app;dur=\d+(\.\d+)?")


class CountingFactory:
    """A db_factory that remembers every NotesDB it made."""

    def __init__(self) -> None:
        self.made: list[Any] = []

    def __call__(self) -> Any:
        db = notes.NotesDB()
        self.made.append(db)
        return db


def test_me_is_the_user_of_the_bearer_token() -> None:
    with TestClient(notes.create_app()) as api:
        response = api.get("/me", headers=ADA)
    assert response.status_code == 200
    assert response.json() == {"id": 1, "name": "ada"}, "token-ada belongs to ada (DEMO_USERS)"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic dG9rZW4tYWRh"},
        {"Authorization": "Bearer token-nobody"},
        {"Authorization": "token-ada"},
    ],
    ids=["no header", "no token", "blank token", "basic", "unknown token", "no scheme"],
)
def test_without_a_valid_bearer_token_every_route_is_401(headers: dict[str, str]) -> None:
    with TestClient(notes.create_app()) as api:
        for method, path in [("GET", "/me"), ("GET", "/notes"), ("DELETE", "/notes/1")]:
            response = api.request(method, path, headers=headers)
            assert response.status_code == 401, f"{method} {path} with {headers}: 401"
            assert response.headers.get("www-authenticate") == "Bearer", (
                "a 401 says which scheme to use: WWW-Authenticate: Bearer"
            )
            assert "not authenticated" in response.json()["detail"]
        posted = api.post("/notes", headers=headers, json={"text": "hi"})
        assert posted.status_code == 401, "POST /notes without a valid token is 401"


def test_each_user_sees_only_their_notes() -> None:
    with TestClient(notes.create_app()) as api:
        created = api.post("/notes", headers=ADA, json={"text": "buy milk"})
        assert created.status_code == 201, "creating a note answers 201"
        assert created.json() == {"id": 1, "owner_id": 1, "text": "buy milk"}
        api.post("/notes", headers=BOB, json={"text": "call ada"})
        api.post("/notes", headers=ADA, json={"text": "write tests"})
        ada = [n["text"] for n in api.get("/notes", headers=ADA).json()]
        bob = [n["text"] for n in api.get("/notes", headers=BOB).json()]
    assert ada == ["buy milk", "write tests"], "ada's notes, by id"
    assert bob == ["call ada"], "bob sees his own note only"


def test_an_empty_note_is_refused() -> None:
    with TestClient(notes.create_app()) as api:
        assert api.post("/notes", headers=ADA, json={"text": ""}).status_code == 422


def test_deleting_someone_elses_note_looks_like_a_missing_one() -> None:
    with TestClient(notes.create_app()) as api:
        note_id = api.post("/notes", headers=ADA, json={"text": "secret"}).json()["id"]
        theirs = api.delete(f"/notes/{note_id}", headers=BOB)
        missing = api.delete("/notes/999", headers=BOB)
        assert theirs.status_code == 404, "bob may not delete ada's note: 404, as if missing"
        assert (missing.status_code, missing.json()) == (404, {"detail": "note 999 not found"})
        assert theirs.json() == {"detail": f"note {note_id} not found"}, (
            "the same answer as for a note that does not exist: no hint that it does"
        )
        assert [n["id"] for n in api.get("/notes", headers=ADA).json()] == [note_id], "kept"
        mine = api.delete(f"/notes/{note_id}", headers=ADA)
        assert mine.status_code == 204, "the owner deletes it: 204"
        assert mine.content == b""
        assert api.get("/notes", headers=ADA).json() == []


def test_tests_can_override_the_user_and_the_database() -> None:
    stand_in = notes.NotesDB(users={})  # knows no token at all
    stand_in.add(owner_id=9, text="from the stand-in database")
    app = notes.create_app()
    app.dependency_overrides[notes.get_db] = lambda: stand_in
    app.dependency_overrides[notes.get_current_user] = lambda: notes.User(id=9, name="tester")
    with TestClient(app) as api:
        me = api.get("/me")  # no Authorization header at all
        listed = api.get("/notes")
        api.post("/notes", json={"text": "added"})
    assert me.json() == {"id": 9, "name": "tester"}, (
        "GET /me must take the user from Depends(get_current_user), so a test can replace it"
    )
    assert [n["text"] for n in listed.json()] == ["from the stand-in database"], (
        "GET /notes must take the database from Depends(get_db), so a test can replace it"
    )
    assert [n.text for n in stand_in.notes_of(9)] == ["from the stand-in database", "added"]


def test_overriding_the_database_also_changes_where_users_come_from() -> None:
    stand_in = notes.NotesDB(users={"token-eve": notes.User(id=5, name="eve")})
    app = notes.create_app()
    app.dependency_overrides[notes.get_db] = lambda: stand_in
    with TestClient(app) as api:
        eve = api.get("/me", headers={"Authorization": "Bearer token-eve"})
        ada = api.get("/me", headers=ADA)
    assert eve.json() == {"id": 5, "name": "eve"}, (
        "get_current_user looks the token up in the database it gets from Depends(get_db)"
    )
    assert ada.status_code == 401, "token-ada is not in the stand-in database"


def test_the_database_opens_at_start_up_and_closes_at_shutdown() -> None:
    factory = CountingFactory()
    app = notes.create_app(factory)
    assert factory.made == [], "create_app opens nothing: the lifespan opens the database"
    with TestClient(app) as api:  # entering runs the lifespan's start-up
        assert len(factory.made) == 1, "one database, opened when the app starts"
        assert not factory.made[0].closed
        api.post("/notes", headers=ADA, json={"text": "x"})
        assert [n.text for n in factory.made[0].notes_of(1)] == ["x"], (
            "the routes use the database the lifespan opened (app.state.db via get_db)"
        )
    assert factory.made[0].closed, "leaving runs the shutdown: the database is closed"
    assert len(factory.made) == 1


def test_every_response_has_server_timing() -> None:
    with TestClient(notes.create_app()) as api:
        responses = [
            api.get("/me", headers=ADA),
            api.get("/me"),  # 401
            api.delete("/notes/7", headers=ADA),  # 404
            api.post("/notes", headers=ADA, json={}),  # 422
            api.get("/nowhere"),  # 404 from routing
        ]
    for response in responses:
        value = response.headers.get("server-timing", "")
        assert TIMING.fullmatch(value), (
            f"{response.request.method} {response.request.url.path} "
            f"({response.status_code}): Server-Timing should look like 'app;dur=0.42', got "
            f"{value!r}: a middleware sees every response, errors included"
        )


class MeetingDB(notes.NotesDB):
    """notes_of() blocks until two requests are inside it at once (a slow query)."""

    def __init__(self) -> None:
        super().__init__()
        self.barrier = threading.Barrier(2, timeout=5)

    def notes_of(self, owner_id: int) -> list[Any]:
        self.barrier.wait()  # raises BrokenBarrierError if the other request never comes
        return super().notes_of(owner_id)


def test_a_blocking_query_does_not_freeze_the_event_loop() -> None:
    import httpx

    db = MeetingDB()
    app = notes.create_app()
    app.dependency_overrides[notes.get_db] = lambda: db

    async def two_at_once() -> list[int]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            responses = await asyncio.gather(
                client.get("/notes", headers=ADA), client.get("/notes", headers=BOB)
            )
        return [r.status_code for r in responses]

    assert asyncio.run(two_at_once()) == [200, 200], (
        "two requests must be inside the blocking query at the same time: declare the routes "
        "that call NotesDB with plain `def`, which FastAPI runs in a thread pool. An `async def` "
        "route that blocks holds the event loop, and the second request cannot even start"
    )
