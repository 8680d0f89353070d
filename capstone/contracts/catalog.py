"""The catalog's HTTP bodies (lesson 03).

The product models are lesson 03's capstone piece (exercise 03.7, ``gateway_models``, through
capstone.pieces): money as integer cents with a ``Decimal`` price on the way out, text that
cannot hold NUL or control characters, unknown fields refused on the way in. The gateway, the
catalog and its clients all speak them. The page the catalog lists them in is the shop's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from capstone.pieces import piece

wire = piece("gateway_models")

if TYPE_CHECKING:
    # The piece is chosen when the shop starts (the learner's or the reference), so mypy cannot
    # see its classes: to the type checker they are Any, like every piece's.
    ProductIn = Any
    ProductPatch = Any
    ProductOut = Any
else:
    ProductIn = wire.ProductIn
    ProductPatch = wire.ProductPatch
    ProductOut = wire.ProductOut


class ProductPage(BaseModel):
    items: list[ProductOut]
    limit: int
    offset: int
