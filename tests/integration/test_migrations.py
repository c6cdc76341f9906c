"""The migrations are the schema: one head, and nothing in the models they miss."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from newsticker.core.db import Base, make_engine
from newsticker.migrations import alembic_config
from newsticker.migrations.fulltext import include_name
from newsticker.models import load_all_models

# Tables that live in the database but belong to a library, not to our models.
LIBRARY_TABLES = {"scheduler_jobs"}


def test_one_head():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


def test_migrated_schema_matches_the_models(database_url):
    load_all_models()
    engine = make_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": lambda name, type_, parent: (
                    not (type_ == "table" and name in LIBRARY_TABLES)
                    and include_name(name, type_, parent)
                ),
            },
        )
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_to_nothing_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    config = alembic_config(url)
    command.upgrade(config, "heads")
    command.downgrade(config, "base")
    command.upgrade(config, "heads")
