"""One JSON object per line, with the request id on every line (lesson 09: structlog).

The set-up and the request-id rules are lesson 09's pieces (exercise 09.8, through
:mod:`capstone.common.observability`, and 09.7's ``clean_request_id``): structlog's lines and the
standard library's, the same JSON on stdout, each with ``service``, ``logger``, ``level``, a UTC
``timestamp`` and the request id. When tracing is on, a line written inside a span also carries
its ``trace_id`` and ``span_id``: a log search finds the trace, and the trace's id finds every
log line of the order.

Where the request id lives: in the piece's context variable, set for an HTTP request by its
middleware, for a gRPC call by inventory's ``request_scope``, and for a stream entry by the
notifier's consumer hooks. :func:`current_request_id` reads it.
"""

from __future__ import annotations

from capstone.pieces import piece

_telemetry = piece("telemetry")

REQUEST_ID_HEADER: str = _telemetry.REQUEST_ID_HEADER
request_scope = _telemetry.request_scope  # ``with request_scope(incoming_id):`` (bad ids replaced)
current_request_id = _telemetry.current_request_id  # the work in hand's, None outside any
get_logger = _telemetry.get_logger  # a structlog logger whose lines name it in ``logger``
