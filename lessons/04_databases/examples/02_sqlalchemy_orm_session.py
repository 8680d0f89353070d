"""SQLAlchemy 2: typed models, a Session, a transaction, a savepoint, and eager loading.

Works in a schema of its own (dropped at the end).

    uv run python lessons/04_databases/examples/02_sqlalchemy_orm_session.py
"""

from __future__ import annotations

import os
import re
import uuid

from sqlalchemy import Engine, ForeignKey, String, create_engine, event, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    selectinload,
)

URL = (
    os.environ.get("JOURNEY_POSTGRES_URL")
    or "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
)


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    orders: Mapped[list[Order]] = relationship(
        back_populates="customer", cascade="all, delete-orphan"
    )


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    total_cents: Mapped[int]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    customer: Mapped[Customer] = relationship(back_populates="orders")


def main() -> None:
    schema = f"journey_example_{uuid.uuid4().hex[:8]}"
    # psycopg 3 driver; every pooled connection starts in our own schema
    url = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", URL)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))  # a generated name, not user input
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        demo(engine)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        print(f"\ndropped schema {schema}")


def demo(engine: Engine) -> None:
    Base.metadata.create_all(engine)

    # 1. a transaction: session.begin() commits at the end of the block, or rolls back on error
    with Session(engine) as session, session.begin():
        for n in range(3):
            session.add(Customer(email=f"c{n}@example.com", orders=[Order(total_cents=100 * n)]))
    print("committed 3 customers with one order each")

    # 2. an error rolls the whole transaction back
    try:
        with Session(engine) as session, session.begin():
            session.add(Customer(email="new@example.com"))
            session.add(Customer(email="c0@example.com"))  # duplicate: the flush fails
    except IntegrityError:
        print("duplicate email -> the whole transaction rolled back")
    with Session(engine) as session:
        print("customers now:", session.scalar(select(func.count(Customer.id))))

    # 3. a savepoint undoes only its part; the outer transaction carries on
    with Session(engine) as session, session.begin():
        session.add(Customer(email="kept@example.com"))
        try:
            with session.begin_nested():  # SAVEPOINT
                session.add(Customer(email="c1@example.com"))
        except IntegrityError:
            print("duplicate inside a SAVEPOINT -> only the savepoint rolled back")
    with Session(engine) as session:
        emails = session.scalars(select(Customer.email).order_by(Customer.email)).all()
        print("customers now:", emails)

    # 4. N+1 vs eager loading: count the SELECTs
    selects: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: selects.append(a[2]))
    with Session(engine) as session:
        for customer in session.scalars(select(Customer)):
            _ = customer.orders  # lazy load: one more query per customer
    lazy = len(selects)
    selects.clear()
    with Session(engine) as session:
        query = select(Customer).options(selectinload(Customer.orders))
        for customer in session.scalars(query):
            _ = customer.orders  # already loaded
    print(f"lazy loading: {lazy} SELECTs; selectinload: {len(selects)} SELECTs")


if __name__ == "__main__":
    main()
