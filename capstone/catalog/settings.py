"""Catalog configuration (lesson 03: pydantic-settings)."""

from capstone.common.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    service_port: int = 8001
    database_url: str = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/shop_catalog"
    cache_ttl_seconds: int = 60
