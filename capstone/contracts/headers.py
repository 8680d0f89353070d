"""Header names of the internal HTTP calls."""

from capstone.common.internal import INTERNAL_TOKEN_HEADER
from capstone.common.logging import REQUEST_ID_HEADER

REQUEST_ID = REQUEST_ID_HEADER  # set by the gateway (or made), echoed, logged, forwarded
USER_ID = "X-User-ID"  # the caller, as the gateway authenticated them
IDEMPOTENCY_KEY = "Idempotency-Key"  # the client's key of an order, forwarded as sent
IDEMPOTENT_REPLAYED = "Idempotent-Replayed"  # "true" on an answer replayed from a stored one
CACHE = "X-Cache"  # catalog reads: "hit" or "miss"
INTERNAL_TOKEN = INTERNAL_TOKEN_HEADER  # proves the gateway sent the call (common/internal.py)
