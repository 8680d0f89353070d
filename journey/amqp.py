"""RabbitMQ housekeeping for tests: delete the queues and exchanges a test made."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import aio_pika


async def _delete_all(url: str, names: list[str]) -> None:
    connection = await aio_pika.connect(url, timeout=5)
    async with connection:
        for name in names:
            # A channel is closed by the broker on any error, so each delete gets its own.
            for kind in ("queue", "exchange"):
                channel = await connection.channel()
                try:
                    if kind == "queue":
                        await channel.queue_delete(name)
                    else:
                        await channel.exchange_delete(name)
                except aio_pika.exceptions.AMQPError:
                    pass
                finally:
                    if not channel.is_closed:
                        await channel.close()


def delete_queues_and_exchanges(url: str, names: Iterable[str]) -> None:
    """Deletes every queue and exchange with one of these names; missing ones are fine."""
    wanted = list(names)
    if wanted:
        asyncio.run(_delete_all(url, wanted))
