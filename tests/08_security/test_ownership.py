"""08.6 Ownership: every endpoint x anonymous, owner, other user, admin."""

from __future__ import annotations

import pytest

from journey.targets import load

own = load(__file__, "ownership")
SESSIONS = {"t-ann": ("ann", False), "t-bob": ("bob", False), "t-root": ("root", True)}
ROLES = {"anonymous": None, "owner": "t-ann", "other user": "t-bob", "admin": "t-root"}

# endpoint -> expected status per role, for ann's note (id 1) and ann's list
MATRIX = {
    ("GET", "/notes/1"): {"anonymous": 401, "owner": 200, "other user": 404, "admin": 200},
    ("PUT", "/notes/1"): {"anonymous": 401, "owner": 200, "other user": 404, "admin": 200},
    ("DELETE", "/notes/1"): {"anonymous": 401, "owner": 204, "other user": 404, "admin": 204},
    ("GET", "/users/ann/notes"): {"anonymous": 401, "owner": 200, "other user": 404, "admin": 200},
    ("GET", "/notes"): {"anonymous": 401, "owner": 200, "other user": 200, "admin": 200},
    ("POST", "/notes"): {"anonymous": 401, "owner": 201, "other user": 201, "admin": 201},
}
CASES = [
    pytest.param(method, path, role, status, id=f"{method} {path} as {role}")
    for (method, path), expected in MATRIX.items()
    for role, status in expected.items()
]


def make_app():
    from fastapi.testclient import TestClient

    notes = own.NoteStore()
    notes.add("ann", "ann's secret plan")  # id 1
    notes.add("bob", "bob's shopping list")  # id 2
    sessions = {t: own.Caller(user, admin) for t, (user, admin) in SESSIONS.items()}
    return TestClient(own.create_app(notes, sessions)), notes


def call(client, method: str, path: str, role: str, body: dict | None = None):
    token = ROLES[role]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if body is None and method in ("PUT", "POST"):
        body = {"text": "changed"}
    return client.request(method, path, headers=headers, json=body)


@pytest.mark.parametrize(("method", "path", "role", "expected"), CASES)
def test_the_matrix(method: str, path: str, role: str, expected: int) -> None:
    client, notes = make_app()
    response = call(client, method, path, role)
    assert response.status_code == expected, (
        f"{method} {path} as {role}: expected {expected}, got {response.status_code} "
        f"{response.text[:200]}"
    )
    note = notes.get(1)
    if expected in (401, 404):
        assert note is not None, f"a refused {method} must not delete ann's note"
        assert note.text == "ann's secret plan", f"a refused {method} must not change ann's note"
        assert "secret plan" not in response.text, "a refusal never shows the note"


def test_another_user_s_note_looks_exactly_like_a_missing_one() -> None:
    client, _ = make_app()
    for method in ("GET", "PUT", "DELETE"):
        theirs = call(client, method, "/notes/1", "other user")
        missing = call(client, method, "/notes/999", "other user")
        assert (
            (theirs.status_code, theirs.json())
            == (missing.status_code, missing.json())
            == (
                404,
                {"detail": own.NOT_FOUND},
            )
        ), f"{method}: 'not yours' and 'does not exist' must be the same answer (no 403)"


def test_lists_show_only_what_the_caller_may_see() -> None:
    client, _ = make_app()
    assert [n["owner"] for n in call(client, "GET", "/notes", "owner").json()] == ["ann"]
    assert [n["owner"] for n in call(client, "GET", "/notes", "other user").json()] == ["bob"]
    assert [n["id"] for n in call(client, "GET", "/notes", "admin").json()] == [1, 2]
    assert call(client, "GET", "/users/ann/notes", "owner").json() == [
        {"id": 1, "owner": "ann", "text": "ann's secret plan"}
    ]
    assert call(client, "GET", "/users/ann/notes", "other user").json() == {
        "detail": "user not found"
    }


def test_writes_by_the_owner_and_the_admin_take_effect() -> None:
    client, notes = make_app()
    changed = call(client, "PUT", "/notes/1", "owner", {"text": "new plan"})
    assert changed.json() == {"id": 1, "owner": "ann", "text": "new plan"}
    assert notes.get(1).text == "new plan"
    assert call(client, "DELETE", "/notes/2", "admin").status_code == 204
    assert notes.get(2) is None
    assert call(client, "DELETE", "/notes/1", "other user").status_code == 404
    assert notes.get(1) is not None, "bob cannot delete ann's note"


def test_the_owner_is_the_caller_never_the_body() -> None:
    client, notes = make_app()
    created = call(client, "POST", "/notes", "other user", {"text": "mine"})
    assert created.status_code == 201
    assert created.json()["owner"] == "bob"
    assert notes.get(created.json()["id"]).owner == "bob"
    smuggled = call(client, "POST", "/notes", "other user", {"text": "x", "owner": "ann"})
    assert smuggled.status_code == 422, "a body that tries to set the owner is refused"
    moved = call(client, "PUT", "/notes/2", "other user", {"text": "x", "owner": "ann"})
    assert moved.status_code == 422
    assert notes.get(2).owner == "bob"


def test_a_bad_token_is_anonymous() -> None:
    client, _ = make_app()
    response = client.get("/notes/1", headers={"Authorization": "Bearer t-unknown"})
    assert response.status_code == 401
    assert response.headers.get("www-authenticate") == "Bearer"
