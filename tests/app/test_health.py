from app import create_app


def test_healthz_on_any_host(client):
    for host in ("nobody.example", "console.test.example", ""):
        response = client.get("/healthz", headers={"Host": host})
        assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_checks_database_and_redis(client):
    response = client.get("/readyz", headers={"Host": "unknown.example"})
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["checks"]["database"].startswith("ok") and body["checks"]["redis"].startswith("ok")


def test_readyz_reports_an_unreachable_redis(settings, db):
    from dataclasses import replace

    broken = create_app(replace(settings, redis_url="redis://127.0.0.1:1/0"), db)
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"].startswith("unreachable")
    assert body["checks"]["database"].startswith("ok")


def test_openapi_document_is_served(client):
    spec = client.get("/api/openapi.json", headers={"Host": "console.test.example"}).get_json()
    assert spec["info"]["title"] == "Backhaul API"
    assert "/api/v1/portal" in spec["paths"] and "/readyz" in spec["paths"]
