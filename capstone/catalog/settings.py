"""Catalog configuration (lesson 03: pydantic-settings)."""

from pydantic import Field

from capstone.common.secrets import Secret
from capstone.common.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    service_port: int = 8001
    # only the gateway knows it: a request without it is refused (capstone.common.internal)
    internal_token: Secret
    database_url: str = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/shop_catalog"
    cache_ttl_seconds: int = 60
    # how long a shared cache (the gateway's own) may keep a product read;
    # 0: never (the answers then say ``Cache-Control: no-store``)
    shared_cache_seconds: int = Field(default=1, ge=0, le=60)
