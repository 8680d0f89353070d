"""Shows any user's notes at /users/{user_id}/notes.

Authentication says *who* is calling; authorization says whether *this* caller may touch
*this* object. An "insecure direct object reference" (IDOR, OWASP's top API risk as "broken
object level authorization") is a route that loads `/notes/{note_id}` for anyone who is logged
in: ids are easy to guess, so every note is everyone's. The fix is one rule applied on every
route that takes an id: load the object *for this caller*, and treat "not yours" exactly like
"does not exist" (404), so the answer does not even confirm that the id is taken.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

NOT_FOUND = "note not found"


@dataclass(frozen=True)
class Caller:
    """Who is calling (given): a user id and whether they are an admin."""

    user_id: str
    is_admin: bool = False


@dataclass
class Note:
    id: int
    owner: str
    text: str


@dataclass
class NoteStore:
    """An in-memory note table (given). Ids are small consecutive numbers: easy to guess."""

    notes: dict[int, Note] = field(default_factory=dict)
    next_id: int = 1

    def add(self, owner: str, text: str) -> Note:
        note = Note(id=self.next_id, owner=owner, text=text)
        self.next_id += 1
        self.notes[note.id] = note
        return note

    def get(self, note_id: int) -> Note | None:
        return self.notes.get(note_id)

    def all(self) -> list[Note]:
        return sorted(self.notes.values(), key=lambda n: n.id)

    def delete(self, note_id: int) -> None:
        self.notes.pop(note_id, None)


class NoteIn(BaseModel):
    """The body of POST and PUT (given): only the text; the owner is never the client's to set."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=1000)


def bearer_caller(sessions: dict[str, Caller]) -> Callable[..., Caller]:
    """The authentication dependency (given): `Authorization: Bearer <session token>` -> Caller.

    A missing or unknown token is 401 "not authenticated" with `WWW-Authenticate: Bearer`.
    """
    scheme = HTTPBearer(auto_error=False)

    def caller(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(scheme)],
    ) -> Caller:
        found = sessions.get(credentials.credentials) if credentials else None
        if found is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "not authenticated",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return found

    return caller


def create_app(notes: NoteStore, sessions: dict[str, Caller]) -> FastAPI:
    """A notes API where each note belongs to the user who created it.

    Every route needs a caller (`bearer_caller(sessions)`; anonymous: 401). A note is
    *visible* to its owner and to admins; to everyone else it does not exist.

      GET    /notes                 200 [notes]: the caller's own notes (admins: every note)
      POST   /notes                 201 {"id", "owner", "text"}: owner = the caller, always
                                    (a body with any other field, e.g. "owner", is a 422)
      GET    /notes/{note_id}       200 the note, if visible
      PUT    /notes/{note_id}       200 the note with its new text, if visible
      DELETE /notes/{note_id}       204, if visible
      GET    /users/{user_id}/notes 200 [that user's notes]: only that user or an admin

    A note that is not visible to the caller gets exactly the same answer as a note that does
    not exist: 404 {"detail": NOT_FOUND} - never 403, never a hint of its content. Another
    user's list at /users/{user_id}/notes is 404 {"detail": "user not found"} as well. A note
    is {"id": int, "owner": str, "text": str}; lists are ordered by id.
    """
    app = FastAPI(title="notes")
    CurrentCaller = Annotated[Caller, Depends(bearer_caller(sessions))]

    def visible(note_id: int, caller: Caller) -> Note:
        note = notes.get(note_id)
        if note is None or not (caller.is_admin or note.owner == caller.user_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
        return note

    @app.get("/notes")
    def list_notes(caller: CurrentCaller) -> list[Note]:
        return [n for n in notes.all() if caller.is_admin or n.owner == caller.user_id]

    @app.post("/notes", status_code=201)
    def create_note(body: NoteIn, caller: CurrentCaller) -> Note:
        return notes.add(caller.user_id, body.text)

    @app.get("/notes/{note_id}")
    def read_note(note_id: int, caller: CurrentCaller) -> Note:
        return visible(note_id, caller)

    @app.put("/notes/{note_id}")
    def update_note(note_id: int, body: NoteIn, caller: CurrentCaller) -> Note:
        note = visible(note_id, caller)
        note.text = body.text
        return note

    @app.delete("/notes/{note_id}", status_code=204)
    def delete_note(note_id: int, caller: CurrentCaller) -> Response:
        notes.delete(visible(note_id, caller).id)
        return Response(status_code=204)

    @app.get("/users/{user_id}/notes")
    def notes_of(user_id: str, caller: CurrentCaller) -> list[Note]:
        return [n for n in notes.all() if n.owner == user_id]

    return app
