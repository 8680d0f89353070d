-- Runs once, when the postgres container starts on an empty data volume
-- (/docker-entrypoint-initdb.d/). One database per service: a service owns its data, and no
-- service reads another's tables; they talk over HTTP, gRPC and the event stream instead.
-- The compose healthcheck probes over TCP, which the server opens only after this script ran.
CREATE DATABASE shop_catalog;
CREATE DATABASE shop_orders;
CREATE DATABASE shop_inventory;
CREATE DATABASE shop_gateway;
CREATE DATABASE shop_notifier;
