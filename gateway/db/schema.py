"""SQLAlchemy table definitions for every StockGate concept (DESIGN "Concepts").

Alembic migrations in `gateway/db/migrations/` create and upgrade these tables; a test checks that the
migrated database matches this metadata.
"""

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text,
    UniqueConstraint, func,
)

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


def _ts(name: str, nullable: bool = True) -> Column:
    return Column(name, DateTime(timezone=True), nullable=nullable)


warehouses = Table(
    "warehouses", metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    Column("kind", String(16), nullable=False, default="merchant"),
    Column("priority", Integer, nullable=False, default=100),
    Column("sellable", Boolean, nullable=False, default=True),
    _ts("created_at", False),
)
# codes are unique without regard to case too: `east` cannot be created beside `EAST`
Index("uq_warehouses_code_lower", func.lower(warehouses.c.code), unique=True)

items = Table(
    "items", metadata,
    Column("id", Integer, primary_key=True),
    Column("sku", String(100), nullable=False, unique=True),
    Column("title", String(500)),
    Column("size", String(100)),
    _ts("created_at", False),
    Column("created_by_file", String(40)),                  # file_id of the file that created it, if one did
)

stock_levels = Table(
    "stock_levels", metadata,
    Column("item_id", Integer, ForeignKey("items.id"), primary_key=True),
    Column("warehouse_id", Integer, ForeignKey("warehouses.id"), primary_key=True),
    Column("on_hand", Integer, nullable=False, default=0),
    _ts("updated_at", False),
    CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
)
Index("ix_stock_levels_warehouse", stock_levels.c.warehouse_id)

files = Table(
    "files", metadata,
    Column("seq", Integer, primary_key=True),              # order of receipt
    Column("file_id", String(40), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("transport", String(16), nullable=False),       # ftp | sftp | folder | cli | web
    Column("account", String(100)),                        # FTP account
    Column("source", String(100)),                         # SFTP or folder source
    Column("warehouse", String(32)),                       # stock files: the warehouse they belong to
    Column("kind", String(20), nullable=False),            # quantity_update | stock
    Column("mode", String(10), nullable=False),            # absolute | partial | full | delta
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("dedupe_scope", String(140), nullable=False),   # warehouse:CODE or account:NAME
    _ts("received_at", False),
    _ts("as_of"),
    Column("status", String(24), nullable=False),
    Column("status_message", Text),
    Column("options", Text, nullable=False, default="{}"),  # JSON: columns, create_unknown_skus, limits
    Column("spool_path", Text, nullable=False),
    Column("report_dir", Text),
    Column("report", Text),                                 # the report JSON
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_by", String(100)),
    _ts("claimed_at"),
    _ts("finished_at"),
    Column("rows_total", Integer, nullable=False, default=0),
    Column("rows_applied", Integer, nullable=False, default=0),
    Column("rows_errors", Integer, nullable=False, default=0),
    Column("rows_warnings", Integer, nullable=False, default=0),
    Column("forced_from", String(40)),   # the file this one re-runs past the duplicate rule (reprocess, --force)
)
Index("ix_files_status", files.c.status)
Index("ix_files_forced_from", files.c.forced_from)
Index("ix_files_scope_sha", files.c.dedupe_scope, files.c.sha256)
Index("ix_files_warehouse", files.c.warehouse, files.c.seq)

file_issues = Table(
    "file_issues", metadata,
    Column("id", Integer, primary_key=True),
    Column("file_seq", Integer, ForeignKey("files.seq", ondelete="CASCADE"), nullable=False),
    Column("row", Integer),
    Column("sku", Text),                                     # the SKU of the issue's row
    Column("column", String(255)),
    Column("value", Text),
    Column("severity", String(10), nullable=False),
    Column("code", String(40), nullable=False),
    Column("message", Text, nullable=False),
)
Index("ix_file_issues_file", file_issues.c.file_seq)

# Which warehouse a file last applied, and the as_of it described (STALE_FILE check).
warehouse_file_marks = Table(
    "warehouse_file_marks", metadata,
    Column("warehouse_id", Integer, ForeignKey("warehouses.id"), primary_key=True),
    _ts("last_as_of", False),
    Column("last_file_seq", Integer, nullable=False),
)

channels = Table(
    "channels", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("marketplace", String(20), nullable=False),
    Column("adapter", String(20), nullable=False),
    Column("restore_policy", String(10), nullable=False, default="smart"),
    Column("buffer", Integer, nullable=False, default=0),
    Column("max_qty", Integer, nullable=False, default=0),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("listing_cursor", Text),
    Column("order_cursor", Text),
    Column("imported", Boolean, nullable=False, default=False),   # first listing import done
    _ts("created_at", False),
)

# A channel's `locations` setting: which warehouse feeds which marketplace location (written from the
# configuration by `gateway.app.sync_config`). A warehouse feeds at most one location of a channel.
channel_locations = Table(
    "channel_locations", metadata,
    Column("channel_id", Integer, ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
    Column("warehouse_id", Integer, ForeignKey("warehouses.id"), primary_key=True),
    Column("location", String(200), nullable=False),
)

# An operator's edit of a channel setting (`stockgate channels set`, the Integrations page): it wins over
# the configuration file's value until unset. `value` is the setting as JSON; `channel` is the config name.
channel_settings = Table(
    "channel_settings", metadata,
    Column("channel", String(100), primary_key=True),
    Column("key", String(40), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_by", String(200), nullable=False),
    _ts("updated_at", False),
)

listings = Table(
    "listings", metadata,
    Column("id", Integer, primary_key=True),
    Column("channel_id", Integer, ForeignKey("channels.id"), nullable=False),
    Column("listing_id", String(200), nullable=False),
    Column("sku", String(100), nullable=False),
    Column("size", String(100)),
    Column("item_id", Integer, ForeignKey("items.id")),
    Column("link_reason", String(40)),        # why unlinked: SIZE_MISMATCH, CHANNEL_ALREADY_LINKED
    Column("status", String(10), nullable=False, default="active"),   # active | missing | sold | deleted
    Column("channel_qty", Integer),           # the quantity the channel reported at the last sync
    Column("last_pushed_qty", Integer),
    _ts("last_pushed_at"),
    Column("last_push_error", Text),
    _ts("first_seen_at", False),
    _ts("last_seen_at", False),
    # the marketplace location the listing is stocked at (a Walmart ship node, a Shopify location id); ""
    # for a channel without `locations`: its one default location. A listing id at two locations is two rows.
    Column("location", String(200), nullable=False, default="", server_default=""),
    UniqueConstraint("channel_id", "listing_id", "location", name="uq_listings_channel_listing_location"),
)
Index("ix_listings_item", listings.c.item_id)

orders = Table(
    "orders", metadata,
    Column("id", Integer, primary_key=True),
    Column("channel_id", Integer, ForeignKey("channels.id"), nullable=False),
    Column("order_id", String(100), nullable=False),
    _ts("placed_at", False),
    Column("status", String(10), nullable=False),       # pending | accepted | cancelled
    _ts("accepted_at"),
    _ts("cancelled_at"),
    Column("oversold", Integer, nullable=False, default=0),
    _ts("created_at", False),
    UniqueConstraint("channel_id", "order_id", name="uq_orders_channel_order"),
)

order_lines = Table(
    "order_lines", metadata,
    Column("id", Integer, primary_key=True),
    Column("order_pk", Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("line_id", String(100), nullable=False),
    Column("sku", String(100), nullable=False),
    Column("item_id", Integer, ForeignKey("items.id")),
    Column("quantity", Integer, nullable=False),
    Column("oversold", Integer, nullable=False, default=0),
    Column("status", String(10), nullable=False, default="open"),   # open | cancelled
    _ts("cancelled_at"),
    Column("cancel_where", String(12)),      # marketplace | stockgate
    Column("cancel_reason", Text),
    Column("cancel_by", String(12)),         # buyer | seller | marketplace, where the marketplace says it
    Column("restore", Boolean),
    Column("restore_rule", String(40)),
    Column("restore_explanation", Text),
    UniqueConstraint("order_pk", "line_id", name="uq_order_lines_order_line"),
)

# A cancellation a channel reported and StockGate refused (it is dated before the order's placement): the
# order is kept as it was, and `orders explain` tells what came and why it was not applied.
refused_cancellations = Table(
    "refused_cancellations", metadata,
    Column("id", Integer, primary_key=True),
    Column("order_pk", Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    _ts("cancelled_at", False),              # the time the channel gave
    Column("cancel_where", String(12), nullable=False),
    Column("reason", Text),
    Column("line_ids", Text),                # JSON list of the lines named; null: the whole order
    Column("message", Text, nullable=False),
    _ts("recorded_at", False),
)
Index("ix_refused_cancellations_order", refused_cancellations.c.order_pk)

allocations = Table(
    "allocations", metadata,
    Column("id", Integer, primary_key=True),
    Column("order_line_id", Integer, ForeignKey("order_lines.id", ondelete="CASCADE"), nullable=False),
    Column("warehouse_id", Integer, ForeignKey("warehouses.id"), nullable=False),
    Column("units", Integer, nullable=False),
    Column("restored_units", Integer, nullable=False, default=0),
    _ts("placed_at", False),                 # the order's placement (as_of subtraction)
    CheckConstraint("restored_units <= units", name="restored_within_allocated"),
)
Index("ix_allocations_warehouse_placed", allocations.c.warehouse_id, allocations.c.placed_at)

ledger = Table(
    "ledger", metadata,
    Column("id", Integer, primary_key=True),
    _ts("at", False),
    Column("item_id", Integer, ForeignKey("items.id"), nullable=False),
    Column("warehouse_id", Integer, ForeignKey("warehouses.id"), nullable=False),
    Column("delta", Integer, nullable=False),
    Column("on_hand_after", Integer, nullable=False),
    Column("cause", String(20), nullable=False),        # file | order | cancel | manual | listing_import
    Column("file_id", String(40)),
    Column("file_row", Integer),
    Column("reference", String(200)),                   # channel/order id/line, listing, who edited by hand
    Column("note", Text),                               # an operator's note with a manual edit (why)
)
Index("ix_ledger_item_warehouse", ledger.c.item_id, ledger.c.warehouse_id)
Index("ix_ledger_file", ledger.c.file_id, ledger.c.warehouse_id)   # which warehouses a file changed (history)

push_outbox = Table(
    "push_outbox", metadata,
    Column("listing_pk", Integer, ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True),
    Column("channel_id", Integer, ForeignKey("channels.id"), nullable=False),
    Column("target_qty", Integer, nullable=False),
    _ts("created_at", False),
    _ts("due_at", False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
)
Index("ix_push_outbox_channel_due", push_outbox.c.channel_id, push_outbox.c.due_at)

push_results = Table(
    "push_results", metadata,
    Column("id", Integer, primary_key=True),
    Column("listing_pk", Integer, ForeignKey("listings.id", ondelete="CASCADE"), nullable=False),
    _ts("at", False),
    Column("quantity", Integer, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("error", Text),
)

source_state = Table(
    "source_state", metadata,
    Column("name", String(100), primary_key=True),
    _ts("last_poll_at"),
    _ts("last_success_at"),
    _ts("last_error_at"),
    Column("last_error", Text),
    Column("failures", Integer, nullable=False, default=0),
    _ts("next_poll_at"),
)

remote_files = Table(
    "remote_files", metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(100), nullable=False),
    Column("path", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("mtime", BigInteger, nullable=False),
    Column("file_id", String(40)),
    Column("state", String(12), nullable=False),        # fetched | done
    _ts("fetched_at", False),
    UniqueConstraint("source", "path", "size", "mtime", name="uq_remote_files_identity"),
)

leases = Table(
    "leases", metadata,
    Column("name", String(100), primary_key=True),
    Column("holder", String(200), nullable=False),
    _ts("expires_at", False),
)

job_runs = Table(
    "job_runs", metadata,
    Column("id", Integer, primary_key=True),
    Column("job", String(40), nullable=False),
    Column("channel", String(100)),
    Column("holder", String(200), nullable=False),
    _ts("started_at", False),
    _ts("finished_at"),
    Column("ok", Boolean),
    Column("detail", Text),
)

# Web accounts (gateway/accounts): users with a role, their sessions, failed logins per address, the audit log.
users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),           # argon2id, as the FTP accounts' hashes
    Column("role", String(10), nullable=False),              # admin | operator | viewer
    _ts("created_at", False),
    _ts("password_changed_at", False),
    CheckConstraint("role IN ('admin', 'operator', 'viewer')", name="role_known"),
)
# names are unique without regard to case: `Ops` cannot be added beside `ops`
Index("uq_users_name_lower", func.lower(users.c.name), unique=True)

web_sessions = Table(
    "web_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),      # sha256 of the cookie's token, never the token
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE")),   # null: anonymous or [web] login
    Column("user_name", String(100)),                        # null: not logged in
    Column("role", String(10)),
    Column("credential", String(64)),                        # sha256 of the password hash logged in with
    _ts("created_at", False),
    _ts("last_seen_at", False),
)
Index("ix_web_sessions_last_seen_at", web_sessions.c.last_seen_at)
Index("ix_web_sessions_user_id", web_sessions.c.user_id)

login_failures = Table(
    "login_failures", metadata,
    Column("id", Integer, primary_key=True),
    Column("address", String(100), nullable=False),
    _ts("at", False),
)
Index("ix_login_failures_address_at", login_failures.c.address, login_failures.c.at)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True),
    _ts("at", False),
    Column("actor", String(200), nullable=False),            # web:NAME, cli:OS_USER
    Column("action", String(60), nullable=False),            # user.add, file.release, channel.set, ...
    Column("target", Text),
    Column("detail", Text),                                  # JSON object, never a secret
)
Index("ix_audit_log_at", audit_log.c.at)
Index("ix_audit_log_actor_at", audit_log.c.actor, audit_log.c.at)
Index("ix_audit_log_action_at", audit_log.c.action, audit_log.c.at)
