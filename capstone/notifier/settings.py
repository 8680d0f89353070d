"""Notifier configuration (lesson 03: pydantic-settings)."""

from capstone.common.secrets import Secret
from capstone.common.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    service_port: int = 8003
    # only the gateway knows it: a request without it is refused (capstone.common.internal)
    internal_token: Secret
    database_url: str = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/shop_notifier"
    events_stream: str = "orders.events"
    consumer_group: str = "notifier"
    # keep the name stable across restarts: on start it re-reads its own pending entries
    consumer_name: str = "notifier-1"
    # entries pending this long on *any* consumer (a dead one) are claimed with XAUTOCLAIM
    claim_idle_ms: int = 30_000
    block_ms: int = 1_000
    batch: int = 50
    # where entries that can never be handled go (empty: "<events_stream>.dead")
    dead_letter_stream: str = ""
