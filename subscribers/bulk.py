"""Write many rows past the ORM: an import of 100,000 addresses must not go row by row.

On PostgreSQL rows go in through COPY (psycopg's `copy.write_row`), by far its fastest
way in; elsewhere one executemany INSERT. Neither runs the ORM's defaults or events, so
the caller passes every column, and expires what the session holds afterwards.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows at once; on PostgreSQL with COPY, by far its fastest way in."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    names = ", ".join(f'"{name}"' for name in columns)
    driver = connection.connection.driver_connection
    assert driver is not None
    with (
        driver.cursor() as cursor,
        cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row([row[name] for name in columns])
