"""the outbox of lesson 07's relay (07.8): the encoded event, its headers, and leases

The relay is the lesson's piece now: each row keeps the event as the bytes it goes out as
(lesson 02's envelope, ``body``), what travels beside it (``headers``: the request id and the
trace context), when it was published (``published_at``), and the lease of the relay working
on it (``lease_owner``, ``lease_until``), so several instances of orders may relay at once.
``sent_at`` now means finished (the consumer group acknowledged the entry).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("body", sa.LargeBinary))
    op.add_column(
        "outbox",
        sa.Column("headers", JSONB, server_default=sa.text("'{}'::jsonb"), nullable=False),
    )
    op.add_column("outbox", sa.Column("published_at", sa.DateTime(timezone=True)))
    op.add_column("outbox", sa.Column("lease_owner", sa.String(100)))
    op.add_column("outbox", sa.Column("lease_until", sa.DateTime(timezone=True)))
    # the envelope loses its request id (lesson 02's envelope has five fields), which moves to
    # the headers with the trace context; a row published before keeps its entry, and counts as
    # finished once it was acknowledged
    op.execute(
        """
        UPDATE outbox SET
            body = convert_to((payload - 'request_id')::text, 'UTF8'),
            headers = coalesce(trace_context, '{}'::jsonb)
                || jsonb_strip_nulls(jsonb_build_object('request_id', payload ->> 'request_id')),
            published_at = sent_at,
            sent_at = acked_at
        """
    )
    op.alter_column("outbox", "body", nullable=False)
    op.drop_index("ix_outbox_unacknowledged", "outbox")
    op.drop_index("ix_outbox_unsent", "outbox")
    op.create_index(
        "ix_outbox_unfinished", "outbox", ["id"], postgresql_where=sa.text("sent_at IS NULL")
    )
    op.drop_column("outbox", "acked_at")
    op.drop_column("outbox", "trace_context")
    op.drop_column("outbox", "payload")


def downgrade() -> None:
    op.add_column("outbox", sa.Column("payload", JSONB))
    op.add_column("outbox", sa.Column("trace_context", JSONB))
    op.add_column("outbox", sa.Column("acked_at", sa.DateTime(timezone=True)))
    op.execute(
        """
        UPDATE outbox SET
            payload = convert_from(body, 'UTF8')::jsonb
                || jsonb_strip_nulls(jsonb_build_object('request_id', headers ->> 'request_id')),
            trace_context = nullif(headers - 'request_id', '{}'::jsonb),
            acked_at = sent_at,
            sent_at = published_at
        """
    )
    op.alter_column("outbox", "payload", nullable=False)
    op.drop_index("ix_outbox_unfinished", "outbox")
    op.create_index(
        "ix_outbox_unsent", "outbox", ["id"], postgresql_where=sa.text("sent_at IS NULL")
    )
    op.create_index(
        "ix_outbox_unacknowledged",
        "outbox",
        ["id"],
        postgresql_where=sa.text("sent_at IS NOT NULL AND acked_at IS NULL"),
    )
    for column in ("lease_until", "lease_owner", "published_at", "headers", "body"):
        op.drop_column("outbox", column)
