"""The migrations are the schema: one head, and nothing in the models they miss."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from newsticker.core.db import Base, make_engine
from newsticker.migrations import alembic_config
from newsticker.migrations.fulltext import TRIGGERS, include_name
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


def test_fulltext_fills_existing_rows_and_keeps_its_triggers(tmp_path):
    url = f"sqlite:///{tmp_path / 'fulltext.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0018")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO items (kind, status, title, title_key, summary, description,"
                " field_of_action, tags, event_languages, content_language, all_day,"
                " place_name, place_address, accessibility_note, organiser, contact_name,"
                " contact_email, contact_phone, link, image_alt, submitter_email,"
                " submitter_language, rejection_reason, search_text, created_at, updated_at,"
                " version) VALUES ('event', 'approved', 'Sprachcafé', 'sprachcafé', '',"
                " 'Mit **Kuchen**.', 'general', '[]', '[]', 'de', 0, '', '', '', '', '', '',"
                " '', '', '', '', 'de', '', 'sprachcafe, mit kuchen. fruhstuck fruehstueck',"
                " '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1)"
            )
        )
    command.upgrade(config, "heads")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT search_text, description_text FROM items")).one()
        assert row.search_text == "sprachcafe mit kuchen fruhstuck fruehstueck"
        assert row.description_text == "Mit Kuchen."
        hits = conn.execute(text("SELECT rowid FROM items_fts WHERE items_fts MATCH 'kuchen'"))
        assert len(hits.all()) == 1
        triggers = conn.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'items'")
        ).scalars()
        assert set(TRIGGERS) <= set(triggers)
    engine.dispose()
