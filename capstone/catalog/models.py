"""The catalog's table: the product model of lesson 04's store (04.8's ``unit_of_work.Product``,
which 04.9's ``catalog_store`` works on), from the side that runs the catalog's piece (yours or
the reference). Its migrations (``migrations/``) build exactly this table; the HTTP bodies are in
capstone.contracts.catalog.
"""

from __future__ import annotations

from capstone.pieces import lesson_module

_model = lesson_module("catalog_store", "unit_of_work")

Base = _model.Base
Product = _model.Product
