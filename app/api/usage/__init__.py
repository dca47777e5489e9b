"""Usage monitoring API (reseller and customer portal)."""
