"""Gateway configuration (lesson 03: pydantic-settings; lesson 08: secrets checked at start)."""

from capstone.common.secrets import Secret
from capstone.common.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    service_port: int = 8000
    database_url: str = "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/shop_gateway"
    # where each internal service is. Empty (the default): every instance that registered in
    # lesson 06's registry, balanced (capstone.common.discovery). A URL: that one address, e.g. a
    # Kubernetes Service or a compose name that does its own balancing
    catalog_url: str = ""
    orders_url: str = ""
    notifier_url: str = ""
    # the registry is read at most once per this many seconds (not once per request)
    discovery_cache_seconds: float = 1.0
    # this many calls in a row that cannot reach an instance make the gateway skip it for the
    # cooldown (passive health); meanwhile its calls go to the other instances
    discovery_failure_threshold: int = 2
    discovery_cooldown_seconds: float = 2.0
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
