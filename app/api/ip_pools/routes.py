"""A reseller's IP pools (CIDR ranges) from which services get static addresses on activation."""

from __future__ import annotations

from flask_smorest import Blueprint

from app.api.ip_pools import schemas as s
from app.models.provisioning import IpPool
from app.services import ip_pools
from app.web import db_session
from app.web.auth import requires

blp = Blueprint("ip_pools", __name__, url_prefix="/reseller/api", description="IP pools and static addresses")
USER = ("user",)


def pool_out(pool: IpPool, *, detail: bool = False) -> dict:
    session = db_session()
    out = {"id": pool.id, "name": pool.name, "cidr": str(pool.cidr), "gateway": str(pool.gateway) if pool.gateway
           else None, "excluded": [str(a) for a in pool.excluded or ()], "created_at": pool.created_at,
           **ip_pools.usage(session, pool)}
    if detail:
        out["assignments"] = [
            {"address": str(a.address), "service_id": a.service_id, "assigned_at": a.assigned_at}
            for a in ip_pools.assignments(session, pool.id)]
    return out


@blp.route("/ip-pools")
@requires("services.view", kinds=USER)
@blp.response(200, s.IpPoolOut(many=True))
def list_pools():
    """Every pool, with how many of its addresses are in use."""
    return [pool_out(p) for p in ip_pools.list_pools(db_session())]


@blp.route("/ip-pools", methods=["POST"])
@requires("services.provision", kinds=USER)
@blp.arguments(s.IpPoolIn)
@blp.response(201, s.IpPoolOut)
def create_pool(body):
    """A pool (it may not overlap another); the gateway and excluded addresses are never handed out."""
    return pool_out(ip_pools.create_pool(db_session(), **body))


@blp.route("/ip-pools/<int:pool_id>")
@requires("services.view", kinds=USER)
@blp.response(200, s.IpPoolDetailOut)
def get_pool(pool_id):
    """A pool and the addresses it has handed out."""
    return pool_out(ip_pools.get_pool(db_session(), pool_id), detail=True)


@blp.route("/ip-pools/<int:pool_id>", methods=["DELETE"])
@requires("services.provision", kinds=USER)
@blp.response(204)
def delete_pool(pool_id):
    """Delete a pool none of whose addresses is in use (409 otherwise)."""
    ip_pools.delete_pool(db_session(), pool_id)
