"""The database: engine, scoped session, declarative base and column types."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import DateTime, Enum, MetaData, create_engine, event, text
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger(__name__)

# Stable constraint names, so Alembic migrations can refer to them on both backends.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite keeps no offset, so we add it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


E = TypeVar("E", bound=StrEnum)


def _enum_values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


def StatusType(enum: type[E], length: int) -> Enum:
    """Return the column type of a StrEnum: its values as plain text, read back as members.

    native_enum=False keeps a VARCHAR on both databases (no PostgreSQL ENUM type to
    migrate), and no CHECK constraint, so adding a state needs no schema change; an
    unknown value is still refused when it is written.
    """
    return Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        validate_strings=True,
        values_callable=_enum_values,
    )


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, enforced foreign keys and real transactions."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


# SQLite: a transaction that reads first and writes later cannot wait for another
# writer. In WAL mode, when someone else committed after our read began, the upgrade to
# a write fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT): the busy
# timeout is never consulted, because waiting could not help a stale snapshot. So work
# that will write declares it, and its transactions start with BEGIN IMMEDIATE, which
# takes the write lock first and does wait (busy_timeout). Reading pages stay deferred,
# so readers never queue behind writers.
_WRITE_INTENT: ContextVar[bool] = ContextVar("newsticker_write_intent", default=False)


def set_write_intent(writes: bool) -> object:
    """Declare whether transactions begun from here on will write; return a reset token."""
    return _WRITE_INTENT.set(writes)


def reset_write_intent(token: object) -> None:
    """Undo set_write_intent."""
    _WRITE_INTENT.reset(token)  # type: ignore[arg-type]


@contextmanager
def write_intent() -> Iterator[None]:
    """Begin the transactions of this block as writers (BEGIN IMMEDIATE on SQLite)."""
    token = _WRITE_INTENT.set(True)
    try:
        yield
    finally:
        _WRITE_INTENT.reset(token)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN out of pysqlite's hands so SAVEPOINT and transactional DDL work
        # (SQLAlchemy's documented recipe for the pysqlite driver).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _WRITE_INTENT.get() else "BEGIN")


def _app_context_id() -> int:
    from flask.globals import app_ctx

    return id(app_ctx._get_current_object())  # type: ignore[attr-defined]


class _Bound:
    """The engine and session factory of one app."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.factory: sessionmaker[Session] = sessionmaker(bind=engine, expire_on_commit=False)


class Database:
    """Engines and sessions per application; the session is scoped to the app context.

    Each app keeps its own engine in app.extensions, so two apps in one process (the
    test app and a live server, say) never share a connection by accident.
    """

    _engines: dict[str, Engine] = {}

    def __init__(self) -> None:
        self._scoped: scoped_session[Session] = scoped_session(
            cast(Any, lambda: self.session_factory()), scopefunc=_app_context_id
        )

    @property
    def session(self) -> Session:
        """Return the session of the current app context (one per request, job or command)."""
        return self._scoped()

    def init_app(self, app: Flask, url: str) -> None:
        """Bind an engine for this URL to the app; remove the session when its context ends."""
        engine = self._engines.get(url)
        if engine is None:
            engine = self._engines[url] = make_engine(url)
        app.extensions["newsticker_db"] = _Bound(engine)
        app.teardown_appcontext(self._remove_session)

    @property
    def _bound(self) -> _Bound:
        from flask import current_app

        bound: _Bound = current_app.extensions["newsticker_db"]
        return bound

    @property
    def engine(self) -> Engine:
        """Return the current app's engine."""
        return self._bound.engine

    @property
    def session_factory(self) -> sessionmaker[Session]:
        """Return the current app's session factory (for work outside the request session)."""
        return self._bound.factory

    def _remove_session(self, _exc: BaseException | None = None) -> None:
        self._scoped.remove()

    def ping(self) -> bool:
        """Return True when the database answers a trivial query."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            logger.warning("database ping failed", exc_info=True)
            return False
        return True


db = Database()
