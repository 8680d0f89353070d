"""Configuration from the environment (lesson 03: pydantic-settings).

Every service process has its own environment; there is no prefix, so ``SERVICE_PORT`` means the
port of whichever service reads it. Each service extends :class:`ServiceSettings`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """What every service needs: where to listen, how loud to log, its database and Redis."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    service_host: str = "127.0.0.1"
    service_port: int = 8000
    log_level: str = "INFO"
    database_url: str = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/shop"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # every Redis key this service writes starts with this prefix (tests use a unique one)
    key_prefix: str = "shop"
    shutdown_grace_seconds: float = 5.0
    # lesson 06's registry (capstone.common.discovery): the host:port under which this instance
    # registers, for the gateway to call it. Empty means SERVICE_HOST:SERVICE_PORT; set it where
    # callers know the instance by another name (compose: catalog:8001; Kubernetes: the pod IP)
    advertise_address: str = ""
    # a registration lives this long after its last heartbeat (one every third of it): an
    # instance killed without deregistering is forgotten after at most this many seconds
    registry_ttl_seconds: float = 10.0
    # tracing (capstone.common.tracing) is off unless one of these is set: a file that gets
    # every span as a JSON line, and/or an OTLP/HTTP endpoint (Jaeger: http://jaeger:4318)
    trace_file: str | None = None
    otel_exporter_otlp_endpoint: str | None = None

    @field_validator("trace_file", "otel_exporter_otlp_endpoint", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("trace_file")
    @classmethod
    def _folder_exists(cls, value: str | None) -> str | None:
        # checked at start, rather than failing at every span later on
        if value is not None and not Path(value).parent.is_dir():
            raise ValueError("the file's folder does not exist")
        return value

    @field_validator("otel_exporter_otlp_endpoint")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL, such as http://jaeger:4318")
        return value

    def key(self, *parts: str) -> str:
        """A Redis key under this deployment's prefix: ``key("cache", "1") == "shop:cache:1"``."""
        return ":".join((self.key_prefix, *parts))
