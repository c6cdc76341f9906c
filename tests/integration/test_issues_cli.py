"""`newsticker draft-issue`: prints the draft's id; a bad slug is a clear error."""

from __future__ import annotations

from sqlalchemy import create_engine, text


def test_draft_issue_prints_the_id_and_twice_the_same(runner):
    first = runner.invoke("draft-issue", "--publication", "ticker")
    assert first.exit_code == 0, first.output
    issue_id = first.stdout.strip().splitlines()[-1]
    assert issue_id.isdigit()
    second = runner.invoke("draft-issue", "--publication", "ticker")
    assert second.exit_code == 0
    assert second.stdout.strip().splitlines()[-1] == issue_id
    engine = create_engine(runner.database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM issues")).scalar() == 1
    engine.dispose()


def test_draft_issue_refuses_an_unknown_publication(runner):
    result = runner.invoke("draft-issue", "--publication", "wochenblatt")
    assert result.exit_code == 2
    assert "wochenblatt" in result.output and "ticker, newsletter" in result.output
    engine = create_engine(runner.database_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM issues")).scalar() == 0
    engine.dispose()


def test_draft_issue_needs_the_option(runner):
    result = runner.invoke("draft-issue")
    assert result.exit_code == 2
    assert "--publication" in result.output
