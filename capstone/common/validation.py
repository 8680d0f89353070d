"""Input types that keep bad input at the door as a 422 (lesson 03: validate at the edge).

PostgreSQL cannot store NUL in text and its ``bigint`` stops at 2**63 - 1: a NUL byte or a huge
id that reached a query would be a 500. These types refuse both where the request is parsed.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

MAX_ID = 2**63 - 1  # PostgreSQL's bigint


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# text without NUL characters: use it for every str a client sends (body, form, path, query)
SafeStr = Annotated[str, AfterValidator(_no_nul)]
# a database id: positive and within bigint
Id64 = Annotated[int, Field(ge=1, le=MAX_ID)]
# printable ASCII, no spaces: safe in a header, a key and a log line
ASCII_TOKEN = r"^[\x21-\x7e]+$"
