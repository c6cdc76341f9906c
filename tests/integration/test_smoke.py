from sqlalchemy import select

from newsticker.auth.models import User


def test_start_page_answers(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b'<html lang="de"' in response.data


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}


def test_rollback_isolation_first(db):
    db.add(User(email="a@example.org", password_hash="x"))
    db.commit()
    assert db.scalars(select(User)).one()


def test_rollback_isolation_second(db):
    assert db.scalars(select(User)).all() == []
