"""Gateway configuration (lesson 03: pydantic-settings; lesson 08: secrets checked at start)."""

from capstone.common.secrets import Secret
from capstone.common.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    service_port: int = 8000
    database_url: str = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/shop_gateway"
    catalog_url: str = "http://127.0.0.1:8001"
    orders_url: str = "http://127.0.0.1:8002"
    notifier_url: str = "http://127.0.0.1:8003"
    # required, random, not published: the gateway refuses to start otherwise
    jwt_secret: Secret
    # sent to the internal services with every call, so they can trust X-User-ID
    internal_token: Secret
    jwt_ttl_seconds: int = 3600
    # order placing, per user; logins, per account and client address
    rate_limit_per_minute: int = 60
    # logins from one client address, whatever the accounts
    login_per_client_per_minute: int = 300
    # failed and successful logins of one account from all clients together: high enough that
    # one client cannot lock the account's owner out, low enough to slow a distributed guesser
    login_per_account_per_minute: int = 600
    # registrations from one client address
    register_per_client_per_minute: int = 20
    downstream_timeout_seconds: float = 15.0
    # how long a request waits for a free Redis connection before it gets a 503
    redis_pool_size: int = 50
    redis_pool_timeout_seconds: float = 2.0
