"""Inventory configuration (lesson 03: pydantic-settings). SERVICE_PORT is the gRPC port."""

from capstone.common.settings import ServiceSettings


class InventorySettings(ServiceSettings):
    service_port: int = 50051
    metrics_port: int = 9101
    database_url: str = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/shop_inventory"
