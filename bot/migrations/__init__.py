"""Schema migrations (Alembic), run from code: every process upgrades the database at start.

Several processes start at once in production (two gateways and the action servers on one
PostgreSQL), so the upgrade runs under a lock: a transaction-scoped advisory lock on PostgreSQL, a
file lock beside the database on SQLite. A database made by create_all before migrations existed
(tables, no ``alembic_version``) is checked against revision 0001, stamped, then upgraded.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from filelock import FileLock
from sqlalchemy import MetaData, create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine

from bot.db import Base, OutdatedSchema, get_engine, schema_problems

MIGRATIONS_DIR = Path(__file__).resolve().parent
BASELINE = "0001"  # the schema create_all made before migrations existed (commit 6c5a0fc)
# One advisory lock key for "schema upgrade" (any constant all our processes agree on).
_PG_LOCK_KEY = 7_306_010_237_463_211_001
_SQLITE_LOCK_TIMEOUT = 300.0


def load_models() -> None:
    """Import every model module so Base.metadata holds all tables."""
    import bot.analytics.models
    import bot.attachments.models
    import bot.handoff.models
    import bot.messages.models
    import bot.shop.models  # noqa: F401


def init_db(url: str) -> Engine:
    """Migrate the database to the newest schema (Alembic, see bot.migrations), then check it."""
    load_models()
    engine = get_engine(url)
    upgrade_to_head(engine)
    check_schema(engine)
    return engine


def check_schema(engine: Engine) -> None:
    """Fail early with a clear message instead of SQL errors in the middle of a chat."""
    expected = {
        table.name: [column.name for column in table.columns] for table in Base.metadata.sorted_tables
    }
    problems = schema_problems(inspect(engine), expected)
    if problems:
        raise OutdatedSchema.of(engine, problems)


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revisions() -> tuple[str, ...]:
    return tuple(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


def upgrade_to_head(engine: Engine) -> None:
    """Bring the database to the newest revision; safe when several processes start together."""
    with _exclusive_connection(engine) as connection:
        if _made_before_migrations(connection):
            _check_baseline(connection)
            command.stamp(alembic_config(connection=connection), BASELINE)
        command.upgrade(alembic_config(connection=connection), "heads")


def _made_before_migrations(connection: Connection) -> bool:
    tables = set(inspect(connection).get_table_names())
    return "alembic_version" not in tables and bool(tables & set(Base.metadata.tables))


def _check_baseline(connection: Connection) -> None:
    """Stamping is only honest when the old database really has revision 0001's tables and columns."""
    problems = schema_problems(inspect(connection), schema_at(BASELINE))
    if problems:
        raise OutdatedSchema.of(connection.engine, problems)


def schema_at(revision: str) -> dict[str, list[str]]:
    """Table -> column names as the migrations build them up to ``revision`` (on a scratch database)."""
    scratch = create_engine("sqlite://", future=True)
    try:
        with scratch.begin() as connection:
            command.upgrade(alembic_config(connection=connection), revision)
            inspector = inspect(connection)
            return {
                table: [column["name"] for column in inspector.get_columns(table)]
                for table in inspector.get_table_names()
                if table != "alembic_version"
            }
    finally:
        scratch.dispose()


@contextmanager
def _exclusive_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other process migrating this database holds at once."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            # Released when the transaction ends; PostgreSQL's DDL is transactional, so a
            # second process waits here and then finds the schema at head.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            yield connection
        return
    if engine.dialect.name == "sqlite":
        with _sqlite_file_lock(engine.url.database), engine.connect() as connection:
            # Batch migrations copy and drop tables; with foreign keys on, the drop would cascade.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
            try:
                with connection.begin():
                    yield connection
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left rows with broken foreign keys: {broken[:5]}")
            finally:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
        return
    with engine.begin() as connection:  # only SQLite and PostgreSQL are supported and locked
        yield connection


def _sqlite_file_lock(database: str | None) -> FileLock | nullcontext:
    if not database or database == ":memory:":
        return nullcontext()
    # Raises filelock.Timeout naming the lock file if another process migrates for too long.
    return FileLock(f"{database}.migrate.lock", timeout=_SQLITE_LOCK_TIMEOUT)


@contextmanager
def _database_at_head(url: str | None) -> Iterator[Connection]:
    """A connection to ``url`` (or a scratch SQLite database) upgraded to head, in a transaction."""
    with tempfile.TemporaryDirectory() as scratch_dir:
        engine = create_engine(url or f"sqlite:///{Path(scratch_dir) / 'scratch.db'}", future=True)
        try:
            with _exclusive_connection(engine) as connection:
                command.upgrade(alembic_config(connection=connection), "heads")
                yield connection
        finally:
            engine.dispose()


def pending_model_changes(url: str | None = None, metadata: MetaData | None = None) -> list:
    """What autogenerate would put in a new revision: empty when the models and head agree."""
    load_models()
    metadata = metadata if metadata is not None else Base.metadata
    with _database_at_head(url) as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "compare_server_default": True, "include_name": _own_tables},
        )
        return compare_metadata(context, metadata)


def _own_tables(name: str | None, type_: str, _parents: dict) -> bool:
    # The app database may also hold Rasa's tracker tables (production shares one PostgreSQL):
    # compare only our own tables, so autogenerate never proposes to drop someone else's.
    return type_ != "table" or name in Base.metadata.tables


def make_revision(message: str, url: str | None = None) -> list[Path]:
    """Autogenerate a revision: the models compared with a database at head.

    Without ``url`` the comparison runs on a scratch SQLite database built from the migrations,
    so a developer's own data is never touched. Review the file before committing it.
    """
    with _database_at_head(url) as connection:
        config = alembic_config(connection=connection)
        ruff = Path(sys.executable).with_name("ruff")
        if ruff.exists():  # a dev install: format the new file like the rest of the code
            for key, value in {
                "hooks": "ruff",
                "ruff.type": "exec",
                "ruff.executable": str(ruff),
                "ruff.options": "format REVISION_SCRIPT_FILENAME",
            }.items():
                config.set_section_option("post_write_hooks", key, value)
        scripts = command.revision(config, message=message, autogenerate=True)
    scripts = scripts if isinstance(scripts, list) else [scripts]
    return [Path(script.path) for script in scripts if script is not None]


def merge_heads(message: str) -> Path | None:
    """A merge revision when branches each added one (two heads after a git merge)."""
    heads = head_revisions()
    if len(heads) < 2:
        return None
    return Path(command.merge(alembic_config(), list(heads), message=message).path)


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database named in ``url`` when it does not exist yet (True if created)."""
    from sqlalchemy.engine import make_url

    target = make_url(url)
    if target.get_backend_name() != "postgresql" or not target.database:
        return False
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
            ).first()
            if exists:
                return False
            quoted = connection.dialect.identifier_preparer.quote(target.database)
            connection.execute(text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        admin.dispose()
