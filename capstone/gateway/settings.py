"""Gateway configuration (lesson 03: pydantic-settings)."""

from capstone.common.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    service_port: int = 8000
    database_url: str = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/shop_gateway"
    catalog_url: str = "http://127.0.0.1:8001"
    orders_url: str = "http://127.0.0.1:8002"
    notifier_url: str = "http://127.0.0.1:8003"
    jwt_secret: str = "dev-only-secret-change-me-0123456789abcdef"
    jwt_ttl_seconds: int = 3600
    rate_limit_per_minute: int = 60
    # comma-separated: a user who registers with one of these emails is an admin
    admin_emails: str = "admin@shop.example"
    downstream_timeout_seconds: float = 15.0

    def is_admin_email(self, email: str) -> bool:
        admins = {e.strip().lower() for e in self.admin_emails.split(",") if e.strip()}
        return email.lower() in admins
