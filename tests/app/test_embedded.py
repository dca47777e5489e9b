"""The embedded PostgreSQL and Redis of a machine without DATABASE_URL/REDIS_URL: started once, reused."""

import psycopg
import pytest
import redis

from app import embedded
from app.config import Settings


@pytest.fixture
def data_dir(tmp_path):
    yield tmp_path
    embedded.stop(tmp_path)


def test_embedded_services_start_and_a_second_start_reuses_their_data(data_dir):
    settings = Settings.from_env({"BACKHAUL_DATA_DIR": str(data_dir)})
    said = []
    first = embedded.resolve(settings, echo=said.append)
    assert any(line.startswith("PostgreSQL: embedded") for line in said)
    assert any(line.startswith("Redis: embedded") for line in said)

    libpq = first.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (v text)")
        conn.execute("INSERT INTO kept VALUES ('still here')")
    redis.Redis.from_url(first.redis_url).set("kept", "also here")

    second = embedded.resolve(settings)
    assert (second.database_url, second.redis_url) == (first.database_url, first.redis_url)
    with psycopg.connect(libpq) as conn:
        assert conn.execute("SELECT v FROM kept").fetchone() == ("still here",)
    assert redis.Redis.from_url(second.redis_url).get("kept") == b"also here"

    assert sorted(embedded.stop(data_dir)) == ["postgres", "redis"]


def test_external_urls_are_used_as_given(tmp_path):
    settings = Settings.from_env({"BACKHAUL_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://u:pw@db:5432/x",
                                  "REDIS_URL": "redis://cache:6379/0"})
    said = []
    resolved = embedded.resolve(settings, echo=said.append)
    assert resolved.database_url == "postgresql://u:pw@db:5432/x"
    assert said[0] == "PostgreSQL: external (postgresql://u:***@db:5432/x)"  # the password is not printed
    assert not (tmp_path / "postgres").exists()
