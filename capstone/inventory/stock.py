"""Stock rules (lessons 04 and 06): set, read and reserve, all-or-nothing per order.

Each function takes a connection that is already inside a transaction (``Database.run_core``;
``Database.run_alone`` for the one-statement ``set_stock`` and ``get_stock``).
``reserve`` claims the order id (``INSERT ... ON CONFLICT DO NOTHING``) and takes each line with a
guarded ``UPDATE ... WHERE quantity >= n``; one short line rolls the whole reservation back. Lines
are taken in product-id order so two orders cannot deadlock. ``release`` undoes a reservation:
it deletes the order's reservation and gives its lines back, in the same product-id order.

The statements every order runs are built once, with named parameters, and executed with each
order's values: SQLAlchemy then finds a statement's compiled form in its cache at once, instead
of working out its cache key anew on every call.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from capstone.inventory.models import Reservation, ReservationLine, Stock


class InsufficientStock(Exception):
    def __init__(self, product_id: int, wanted: int) -> None:
        super().__init__(f"not enough stock of product {product_id} for {wanted}")
        self.product_id = product_id
        self.wanted = wanted


@dataclass(frozen=True)
class Line:
    product_id: int
    quantity: int


def set_stock(connection: Connection, product_id: int, quantity: int) -> int:
    statement = insert(Stock).values(product_id=product_id, quantity=quantity)
    statement = statement.on_conflict_do_update(
        index_elements=[Stock.product_id],
        set_={"quantity": statement.excluded.quantity, "updated_at": func.now()},
    )
    connection.execute(statement)
    return quantity


def get_stock(connection: Connection, product_id: int) -> int:
    found = connection.scalar(select(Stock.quantity).where(Stock.product_id == product_id))
    return int(found or 0)


CLAIM_RESERVATION = (
    insert(Reservation)
    .values(order_id=bindparam("the_order"))
    .on_conflict_do_nothing()
    .returning(Reservation.order_id)
)
# the guard ``quantity >= n`` makes a short line update no row (and return nothing)
TAKE = (
    update(Stock)
    .where(Stock.product_id == bindparam("the_product"), Stock.quantity >= bindparam("wanted"))
    .values(quantity=Stock.quantity - bindparam("wanted"), updated_at=func.now())
    .returning(Stock.quantity)
)
ADD_LINES = insert(ReservationLine)


def reserve(connection: Connection, order_id: str, lines: list[Line]) -> bool:
    """Reserves every line; returns True when this order was already reserved (a replay)."""
    wanted: Counter[int] = Counter()
    for line in lines:
        wanted[line.product_id] += line.quantity
    if connection.scalar(CLAIM_RESERVATION, {"the_order": order_id}) is None:
        return True
    for product_id in sorted(wanted):
        left = connection.scalar(TAKE, {"the_product": product_id, "wanted": wanted[product_id]})
        if left is None:  # raising rolls back the whole transaction: all or nothing
            raise InsufficientStock(product_id, wanted[product_id])
    connection.execute(
        ADD_LINES,
        [{"order_id": order_id, "product_id": p, "quantity": q} for p, q in wanted.items()],
    )
    return False


def release(connection: Connection, order_id: str) -> bool:
    """Gives an order's reserved stock back; False when it holds no reservation (a no-op).

    The reservation row is locked first (``FOR UPDATE``): a second, concurrent release of the
    same order waits, then finds the row gone and gives nothing back twice."""
    held = connection.scalar(
        select(Reservation.order_id).where(Reservation.order_id == order_id).with_for_update()
    )
    if held is None:
        return False
    lines = connection.execute(
        select(ReservationLine.product_id, ReservationLine.quantity)
        .where(ReservationLine.order_id == order_id)
        .order_by(ReservationLine.product_id)  # the order reserve takes them in: no deadlock
    ).all()
    for product_id, quantity in lines:
        connection.execute(
            update(Stock)
            .where(Stock.product_id == product_id)
            .values(quantity=Stock.quantity + quantity, updated_at=func.now())
        )
    connection.execute(delete(Reservation).where(Reservation.order_id == order_id))  # lines cascade
    return True
