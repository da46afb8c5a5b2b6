"""Alembic environment: migrate the connection that ``engine.store.migrate`` hands over.

When run by the ``alembic`` command line (to write a new revision) there is no handed-over
connection and ``sqlalchemy.url`` from the command's configuration is used instead.
"""

from alembic import context
from sqlalchemy import create_engine

from engine.store.schema import Base

config = context.config


def _run(connection) -> None:
    # SQLite alters tables by copying them: batch mode does that for every op.alter_*.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None, "alembic.ini names no sqlalchemy.url"
    with create_engine(url).connect() as fresh:
        _run(fresh)
