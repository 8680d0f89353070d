"""04.8 — a repository and a unit of work for products."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from journey.targets import load

uow_module = load(__file__, "unit_of_work")
UnitOfWork = uow_module.UnitOfWork


def session_factory(engine: Engine) -> sessionmaker[Session]:
    uow_module.Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)


def skus(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(
            session.scalars(select(uow_module.Product.sku).order_by(uow_module.Product.sku))
        )


def test_commit_makes_the_work_visible(engine: Engine) -> None:
    factory = session_factory(engine)
    with UnitOfWork(factory) as uow:
        product = uow.products.add("SKU-1", "Mug", 1200)
        assert isinstance(product.id, int), "add flushes, so the new product has its id"
        uow.commit()
    assert skus(engine) == ["SKU-1"], "after commit() another session sees the product"
    with UnitOfWork(factory) as uow:
        found = uow.products.get(product.id)
        assert found is not None, "the repository finds it by id"
        assert found.name == "Mug"
        assert uow.products.get(product.id + 999) is None


def test_leaving_without_commit_rolls_back(engine: Engine) -> None:
    factory = session_factory(engine)
    with UnitOfWork(factory) as uow:
        uow.products.add("SKU-1", "Mug", 1200)
        uow.session.flush()  # even flushed rows are only part of the open transaction
    assert skus(engine) == [], (
        "a unit of work that is not committed leaves nothing behind: the repository must not "
        "commit, and __exit__ rolls back"
    )


class Boom(Exception):
    """An error raised inside the with block by the test."""


def test_an_exception_rolls_back_and_propagates(engine: Engine) -> None:
    factory = session_factory(engine)

    def fail_half_way() -> None:
        with UnitOfWork(factory) as uow:
            uow.products.add("SKU-1", "Mug", 1200)
            raise Boom

    with pytest.raises(Boom):  # the exception from inside the block comes out as it is
        fail_half_way()
    assert skus(engine) == [], "an error inside the block rolls the work back"


def test_the_session_is_closed_and_its_connection_returned(engine: Engine) -> None:
    factory = session_factory(engine)
    for commit in (True, False):
        with UnitOfWork(factory) as uow:
            uow.products.add(f"SKU-{commit}", "Mug", 1200)
            if commit:
                uow.commit()
        assert engine.pool.checkedout() == 0, (  # type: ignore[attr-defined]
            "after the block the session's connection is back in the engine's pool: "
            "__exit__ must close the session, or every unit of work keeps a connection"
        )


def test_after_commit_callbacks_run_only_after_a_commit(engine: Engine) -> None:
    factory = session_factory(engine)
    seen_by_others: list[list[str]] = []
    with UnitOfWork(factory) as uow:
        uow.products.add("SKU-1", "Mug", 1200)
        uow.after_commit(lambda: seen_by_others.append(skus(engine)))
        assert seen_by_others == [], "a callback waits for the commit"
        uow.commit()
    assert seen_by_others == [["SKU-1"]], (
        "after-commit callbacks run once, when the data is already visible to other sessions"
    )
    ran: list[str] = []
    with UnitOfWork(factory) as uow:
        uow.after_commit(lambda: ran.append("rolled back"))
        uow.rollback()
        uow.commit()
    assert ran == [], "rollback() drops the callbacks registered before it"
    with UnitOfWork(factory) as uow:
        uow.after_commit(lambda: ran.append("never committed"))
    assert ran == [], "leaving without commit never runs the callbacks"


def test_each_callback_runs_once_over_several_commits(engine: Engine) -> None:
    factory = session_factory(engine)
    ran: list[str] = []
    with UnitOfWork(factory) as uow:
        uow.products.add("SKU-1", "Mug", 1200)
        uow.after_commit(lambda: ran.append("first"))
        uow.commit()
        uow.products.add("SKU-2", "Plate", 1500)
        uow.after_commit(lambda: ran.append("second"))
        uow.commit()
    assert ran == ["first", "second"], (
        f"callbacks ran as {ran}: each callback runs once, after the next commit only; "
        "forget them once they have run, or a second commit runs them again"
    )
    assert skus(engine) == ["SKU-1", "SKU-2"]


def test_callbacks_run_in_the_order_they_were_registered(engine: Engine) -> None:
    factory = session_factory(engine)
    ran: list[int] = []
    with UnitOfWork(factory) as uow:
        for n in range(3):
            uow.after_commit(lambda n=n: ran.append(n))
        uow.commit()
    assert ran == [0, 1, 2]


def test_a_duplicate_sku_does_not_spoil_the_unit_of_work(engine: Engine) -> None:
    factory = session_factory(engine)
    with UnitOfWork(factory) as uow:
        uow.products.add("SKU-1", "Mug", 1200)
        with pytest.raises(uow_module.DuplicateSku):
            uow.products.add("SKU-1", "Another mug", 900)
        uow.products.add("SKU-2", "Plate", 1500)
        uow.commit()
    assert skus(engine) == ["SKU-1", "SKU-2"], (
        "the refused duplicate is undone alone (a SAVEPOINT), the rest of the work commits"
    )


def test_a_negative_price_is_refused_and_zero_is_fine(engine: Engine) -> None:
    factory = session_factory(engine)
    with UnitOfWork(factory) as uow:
        with pytest.raises(ValueError, match="negative"):
            uow.products.add("SKU-1", "Mug", -1)
        free = uow.products.add("SKU-0", "Sticker", 0)
        assert free.price_cents == 0, "a price of 0 is allowed: a free product"
        uow.commit()
    assert skus(engine) == ["SKU-0"]


def test_list_all_orders_by_id_and_limits(engine: Engine) -> None:
    factory = session_factory(engine)
    with UnitOfWork(factory) as uow:
        for n in (3, 1, 4, 0, 2):
            uow.products.add(f"SKU-{n}", f"Item {n}", 100 * n)
        uow.commit()
    with UnitOfWork(factory) as uow:
        listed = uow.products.list_all(limit=3)
        assert [p.sku for p in listed] == ["SKU-3", "SKU-1", "SKU-4"], (
            "list_all returns the first `limit` products by id (the order they were added in)"
        )
        assert len(uow.products.list_all()) == 5
