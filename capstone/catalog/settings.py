"""Catalog configuration (lesson 03: pydantic-settings)."""

from capstone.common.secrets import Secret
from capstone.common.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    service_port: int = 8001
    # only the gateway knows it: a request without it is refused (capstone.common.internal)
    internal_token: Secret
    database_url: str = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/shop_catalog"
    cache_ttl_seconds: int = 60
