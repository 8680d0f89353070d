"""03.2 — Dependencies: a database and a current user that tests can replace (core).

A route should not build what it needs: it *declares* it, and FastAPI provides it. Here every
route gets the database and the signed-in user from two dependency functions, ``get_db`` and
``get_current_user``. Because they are declared with ``Depends(...)``, a test can swap either
one for a stand-in with ``app.dependency_overrides[get_db] = ...``, without touching the routes.

The database is opened when the app starts and closed when it stops (a *lifespan*), a
middleware adds a ``Server-Timing`` header to every response, and the routes that call the
blocking ``NotesDB`` are plain ``def`` functions, which FastAPI runs in a thread pool so that a
slow query never freezes the event loop.

| method and path      | answer                                                    |
|----------------------|-----------------------------------------------------------|
| GET    /me           | 200, the current User                                     |
| GET    /notes        | 200, the current user's notes (a list of Note), by id     |
| POST   /notes        | 201, the new Note (body NoteIn), owned by the current user |
| DELETE /notes/{id}   | 204; 404 when there is no such note *or* it is not theirs |

Every route needs a valid ``Authorization: Bearer <token>`` header, else 401.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from threading import Lock
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Request
from pydantic import BaseModel, Field

SERVER_TIMING = "Server-Timing"


class User(BaseModel):
    id: int
    name: str


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=500)


class Note(BaseModel):
    id: int
    owner_id: int
    text: str


DEMO_USERS: Mapping[str, User] = {
    "token-ada": User(id=1, name="ada"),
    "token-bob": User(id=2, name="bob"),
}


class NotesDB:
    """A blocking, in-memory database of notes and of the users' tokens. (Given.)

    Its methods block the calling thread, like a real database driver's: call them from
    ``def`` routes, never from ``async def`` ones. ``close()`` must be called once at shutdown;
    ``closed`` says whether it was.
    """

    def __init__(self, users: Mapping[str, User] | None = None) -> None:
        self._users = dict(DEMO_USERS if users is None else users)
        self._notes: dict[int, Note] = {}
        self._next_id = 1
        self._lock = Lock()
        self.closed = False

    def user_for_token(self, token: str) -> User | None:
        return self._users.get(token)

    def add(self, owner_id: int, text: str) -> Note:
        with self._lock:
            note = Note(id=self._next_id, owner_id=owner_id, text=text)
            self._notes[note.id] = note
            self._next_id += 1
        return note

    def notes_of(self, owner_id: int) -> list[Note]:
        ordered = sorted(self._notes.values(), key=lambda note: note.id)
        return [note for note in ordered if note.owner_id == owner_id]

    def get(self, note_id: int) -> Note | None:
        return self._notes.get(note_id)

    def delete(self, note_id: int) -> bool:
        with self._lock:
            return self._notes.pop(note_id, None) is not None

    def close(self) -> None:
        self.closed = True


def get_db(request: Request) -> NotesDB:
    """The app's database, opened by the lifespan and kept in ``request.app.state.db``."""
    raise NotImplementedError("03.2: return the database the lifespan put in request.app.state")


def get_current_user(
    db: Annotated[NotesDB, Depends(get_db)],
    authorization: Annotated[str | None, Header()] = None,
) -> User:
    """The user whose token is in ``Authorization: Bearer <token>``.

    A missing header, another scheme ("Basic ..."), a missing token or an unknown one is a 401
    whose detail says "not authenticated", with the header ``WWW-Authenticate: Bearer``. The
    token is looked up with ``db.user_for_token``: take the database from ``get_db`` (with
    ``Depends``), so that overriding ``get_db`` in a test also changes where users come from.
    """
    raise NotImplementedError("03.2: look the bearer token up with db.user_for_token, else 401")


CurrentUser = Annotated[User, Depends(get_current_user)]
Database = Annotated[NotesDB, Depends(get_db)]


def create_app(db_factory: Callable[[], NotesDB] = NotesDB) -> FastAPI:
    """A new app whose lifespan opens ``db_factory()`` at start-up and closes it at shutdown.

    - Nothing is opened before the app starts: ``create_app`` itself does not call
      ``db_factory``. The lifespan stores the database in ``app.state.db`` and calls its
      ``close()`` when the app stops.
    - A middleware adds ``Server-Timing: app;dur=<milliseconds>`` (e.g. ``app;dur=0.42``) to
      every response, errors included.
    - ``GET /me`` is ``async def`` (it does no blocking work); the routes that call NotesDB are
      plain ``def``. Each route takes what it needs through ``Depends(get_db)`` and
      ``Depends(get_current_user)``, never by reading headers or ``app.state`` itself.
    """
    raise NotImplementedError("03.2: lifespan, Server-Timing middleware and the four routes")
