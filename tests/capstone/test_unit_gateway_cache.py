"""The gateway's micro-cache of product reads (capstone.gateway.cache), on a fake clock."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import Response

from capstone.gateway.cache import ResponseCache, shared_max_age


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def answer(body: bytes = b'{"id":1}', status: int = 200, cache_control: str | None = "s-maxage=2"):
    headers = {"X-Cache": "miss"}
    if cache_control is not None:
        headers["Cache-Control"] = cache_control
    return Response(body, status_code=status, media_type="application/json", headers=headers)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("s-maxage=2", 2.0),
        ("public, max-age=5", 5.0),
        ("max-age=9, s-maxage=3", 3.0),  # a shared cache prefers s-maxage
        ('S-MaxAge="4"', 4.0),
        (None, None),
        ("", None),
        ("no-store", None),
        ("no-store, s-maxage=5", None),
        ("private, max-age=60", None),
        ("no-cache, s-maxage=5", None),
        ("s-maxage=0", None),
        ("s-maxage=soon", None),
        ("public", None),
    ],
)
def test_shared_max_age_reads_cache_control(header, seconds):
    assert shared_max_age(header) == seconds


def test_a_cacheable_answer_is_served_until_it_expires():
    clock = Clock()
    cache = ResponseCache(clock=clock)
    cache.store("/products/1", answer(b'{"id":1}'), generation=cache.generation)

    clock.now += 1.5
    hit = cache.get("/products/1")
    assert hit is not None
    assert hit.body == b'{"id":1}'
    assert hit.headers["x-cache"] == "hit"
    assert hit.headers["age"] == "1"
    assert hit.media_type == "application/json"

    clock.now += 0.5  # two seconds after it was stored: s-maxage=2 has run out
    assert cache.get("/products/1") is None
    assert len(cache) == 0


@pytest.mark.parametrize(
    "refused",
    [
        answer(status=404, cache_control="s-maxage=2"),
        answer(status=503, cache_control="s-maxage=2"),
        answer(cache_control=None),
        answer(cache_control="no-store"),
        answer(cache_control="private, max-age=60"),
    ],
)
def test_only_a_200_that_says_it_may_be_shared_is_kept(refused):
    cache = ResponseCache(clock=Clock())
    cache.store("/products/1", refused, generation=cache.generation)
    assert cache.get("/products/1") is None


def test_a_write_forgets_every_answer_and_those_still_on_their_way():
    cache = ResponseCache(clock=Clock())
    cache.store("/products/1", answer(b"old 1"), generation=cache.generation)
    sent_before_the_write = cache.generation

    cache.clear()  # a product was written through the gateway

    assert cache.get("/products/1") is None
    cache.store("/products/2", answer(b"old 2"), generation=sent_before_the_write)
    assert cache.get("/products/2") is None, "a read sent before the write may be stale"
    cache.store("/products/2", answer(b"new 2"), generation=cache.generation)
    assert cache.get("/products/2").body == b"new 2"


def test_the_oldest_answer_goes_first_when_full():
    cache = ResponseCache(max_entries=2, clock=Clock())
    for n in (1, 2, 3):
        cache.store(f"/products/{n}", answer(b"%d" % n), generation=cache.generation)
    assert cache.get("/products/1") is None
    assert [cache.get(f"/products/{n}").body for n in (2, 3)] == [b"2", b"3"]
    assert len(cache) == 2


def test_a_cache_needs_room_for_one_answer():
    with pytest.raises(ValueError, match="max_entries"):
        ResponseCache(max_entries=0)


class Catalog:
    """A fetch that answers when the test says so, counting its calls."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.calls = 0
        self.go = asyncio.Event()

    async def fetch(self):
        self.calls += 1
        answer = self.answers.pop(0)
        await self.go.wait()
        if isinstance(answer, Exception):
            raise answer
        return answer


async def readers(cache, catalog, count):
    tasks = [
        asyncio.create_task(cache.read_through("/products/1", catalog.fetch)) for _ in range(count)
    ]
    await asyncio.sleep(0)  # every reader has missed and is waiting
    return tasks


def test_readers_that_miss_together_wait_for_one_fetch():
    asyncio.run(_test_readers_that_miss_together_wait_for_one_fetch())


async def _test_readers_that_miss_together_wait_for_one_fetch():
    cache = ResponseCache(clock=Clock())
    catalog = Catalog(answer(b"v1"))
    waiting = await readers(cache, catalog, 20)
    catalog.go.set()
    answers = await asyncio.gather(*waiting)
    assert catalog.calls == 1, "one call to the catalog for twenty readers"
    assert {a.body for a in answers} == {b"v1"}
    assert len({id(a) for a in answers}) == 20, "a response each: one is sent only once"
    assert (await cache.read_through("/products/1", catalog.fetch)).headers["x-cache"] == "hit"


def test_an_answer_that_may_not_be_kept_is_shared_but_not_kept():
    asyncio.run(_test_an_answer_that_may_not_be_kept_is_shared_but_not_kept())


async def _test_an_answer_that_may_not_be_kept_is_shared_but_not_kept():
    cache = ResponseCache(clock=Clock())
    catalog = Catalog(answer(b"gone", status=404), answer(b"gone again", status=404))
    waiting = await readers(cache, catalog, 5)
    catalog.go.set()
    assert {(a.status_code, a.body) for a in await asyncio.gather(*waiting)} == {(404, b"gone")}
    again = await cache.read_through("/products/1", catalog.fetch)
    assert (catalog.calls, again.body) == (2, b"gone again")


def test_a_failed_fetch_fails_every_reader_waiting_for_it():
    asyncio.run(_test_a_failed_fetch_fails_every_reader_waiting_for_it())


async def _test_a_failed_fetch_fails_every_reader_waiting_for_it():
    cache = ResponseCache(clock=Clock())
    catalog = Catalog(RuntimeError("catalog away"), answer(b"back"))
    waiting = await readers(cache, catalog, 3)
    catalog.go.set()
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert (await cache.read_through("/products/1", catalog.fetch)).body == b"back"


def test_readers_after_a_write_do_not_wait_for_a_fetch_sent_before_it():
    asyncio.run(_test_readers_after_a_write_do_not_wait_for_a_fetch_sent_before_it())


async def _test_readers_after_a_write_do_not_wait_for_a_fetch_sent_before_it():
    cache = ResponseCache(clock=Clock())
    catalog = Catalog(answer(b"old"), answer(b"new"))
    before = await readers(cache, catalog, 2)
    cache.clear()  # a write, while the first fetch is on its way
    after = await readers(cache, catalog, 2)
    catalog.go.set()
    assert [a.body for a in await asyncio.gather(*before)] == [b"old", b"old"]
    assert [a.body for a in await asyncio.gather(*after)] == [b"new", b"new"]
    assert catalog.calls == 2
    assert (await cache.read_through("/products/1", catalog.fetch)).body == b"new"


def test_a_hit_says_hit_once_and_keeps_the_catalogs_cache_control():
    cache = ResponseCache(clock=Clock())
    cache.store("/products/1", answer(), generation=cache.generation)
    hit = cache.get("/products/1")
    assert [v for k, v in hit.raw_headers if k == b"x-cache"] == [b"hit"]
    assert hit.headers["cache-control"] == "s-maxage=2"
