"""Orders configuration (lesson 03: pydantic-settings)."""

from pydantic import Field

from capstone.common.secrets import Secret
from capstone.common.settings import ServiceSettings


class OrdersSettings(ServiceSettings):
    service_port: int = 8002
    # only the gateway knows it: a request without it is refused (capstone.common.internal)
    internal_token: Secret
    database_url: str = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/shop_orders"
    inventory_target: str = "127.0.0.1:50051"
    reserve_deadline_seconds: float = 2.0
    outbox_poll_seconds: float = 0.5
    events_stream: str = "orders.events"
    # the notifier's consumer group: the relay trims and republishes by its acknowledgements
    consumer_group: str = "notifier"
    # the stream never holds more: beyond it the relay stops publishing (the outbox keeps the
    # rows) rather than trimming entries the notifier has not read
    stream_max_entries: int = 100_000
    # a published row is checked (acknowledged? vanished?) once it is this old
    outbox_check_after_seconds: float = 1.0
    # a relay's claim on its rows during a pass (a pass takes milliseconds): the rows of an
    # instance killed mid-pass wait this long before another instance's relay takes them, so
    # their events (and notifications) are late by at most about this much
    outbox_lease_seconds: float = Field(default=5.0, gt=0)
    # how long a repeated request waits for the first one with its key before answering 409
    idempotency_wait_seconds: float = 5.0
    # a claim older than this whose request never finished (a crash) may be taken over
    idempotency_lock_seconds: float = 30.0
