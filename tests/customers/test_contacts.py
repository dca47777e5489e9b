"""Contacts of any number and of the reseller's own types, each with its channels and notifications."""


def test_contact_types_are_the_resellers_own(reseller):
    r, other = reseller(), reseller()
    billing = r.post("/contact-types", {"name": "Billing", "description": "invoices and receipts"})
    assert billing.status_code == 201, billing.get_json()
    r.post("/contact-types", {"name": "Site  owner"})
    assert [t["name"] for t in r.get("/contact-types").get_json()] == ["Billing", "Site owner"]
    assert other.get("/contact-types").get_json() == []  # another reseller has its own list
    duplicate = r.post("/contact-types", {"name": "BILLING"})
    assert duplicate.status_code == 409
    type_id = billing.get_json()["id"]
    renamed = r.patch(f"/contact-types/{type_id}", {"name": "Accounts"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Accounts"
    assert r.patch(f"/contact-types/{type_id}", {"name": "site owner"}).status_code == 409
    customer = r.create()
    r.post(f"/customers/{customer['id']}/contacts", {"name": "Jane", "type_id": type_id})
    in_use = r.delete(f"/contact-types/{type_id}")
    assert in_use.status_code == 409 and in_use.get_json()["contacts"] == 1
    unused = r.post("/contact-types", {"name": "Temporary"}).get_json()["id"]
    assert r.delete(f"/contact-types/{unused}").status_code == 204
    assert r.delete(f"/contact-types/{unused}").status_code == 404


def test_contacts_with_channels_and_notifications(reseller):
    r = reseller()
    technical = r.post("/contact-types", {"name": "Technical"}).get_json()["id"]
    billing = r.post("/contact-types", {"name": "Billing"}).get_json()["id"]
    customer = r.create(customer_type="company", company_name="Acme Ltd")
    cid = customer["id"]
    assert r.get(f"/customers/{cid}/contacts").get_json() == []  # none is mandatory
    first = r.post(f"/customers/{cid}/contacts", {
        "name": "Jane Wairimu", "type_id": billing, "email": "Jane@Acme.example", "phone": "0712 345 678",
        "channels": [{"kind": "whatsapp", "address": "+254 712 345 678"}],
        "notifications": {"billing": ["email", "whatsapp"], "outages": ["sms"]}, "is_primary": True})
    assert first.status_code == 201, first.get_json()
    jane = first.get_json()
    assert jane["type"] == "Billing" and jane["email"] == "jane@acme.example" and jane["phone"] == "254712345678"
    assert jane["channels"] == [{"kind": "whatsapp", "address": "254712345678"}]
    assert jane["notifications"] == {"billing": ["email", "whatsapp"], "outages": ["sms"]}
    tech = r.post(f"/customers/{cid}/contacts", {
        "name": "Otieno (NOC)", "type_id": technical, "channels": [{"kind": "telegram", "address": "@otieno_noc"},
                                                                  {"kind": "email", "address": "noc@acme.example"}],
        "notifications": {"outages": ["telegram", "email"], "service": ["email"]}}).get_json()
    untyped = r.post(f"/customers/{cid}/contacts", {"name": "Gate guard", "phone": "+255 22 211 0000"}).get_json()
    assert untyped["type_id"] is None and untyped["type"] is None and untyped["phone"] == "+255222110000"
    listed = r.get(f"/customers/{cid}/contacts").get_json()
    assert [c["name"] for c in listed] == ["Jane Wairimu", "Otieno (NOC)", "Gate guard"]  # primary first
    # the primary mark moves
    moved = r.patch(f"/contacts/{tech['id']}", {"is_primary": True})
    assert moved.status_code == 200 and moved.get_json()["is_primary"]
    assert [c["is_primary"] for c in r.get(f"/customers/{cid}/contacts").get_json()] == [True, False, False]
    assert r.get(f"/contacts/{jane['id']}").get_json()["is_primary"] is False
    # a notification can go only to a channel the contact has
    bad = r.post(f"/customers/{cid}/contacts", {"name": "X", "notifications": {"billing": ["sms"]}})
    assert bad.status_code == 422 and "no sms channel" in bad.get_json()["errors"]["notifications"][0]
    dropped = r.patch(f"/contacts/{jane['id']}", {"phone": None})  # her outages go by sms
    assert dropped.status_code == 422
    assert r.post(f"/customers/{cid}/contacts", {"name": "X", "notifications": {"gossip": ["email"]},
                                                 "email": "x@acme.example"}).status_code == 422
    assert r.post(f"/customers/{cid}/contacts", {"name": "X", "type_id": 999999}).status_code == 422
    assert r.post(f"/customers/{cid}/contacts", {"name": "X", "channels": [{"kind": "sms",
                                                                            "address": "call me"}]}).status_code == 422
    assert r.post(f"/customers/{cid}/contacts", {"email": "x@acme.example"}).status_code == 422  # a name is needed
    # change and remove
    changed = r.patch(f"/contacts/{jane['id']}", {"type_id": None, "notifications": {"billing": ["email"]}})
    assert changed.get_json()["type"] is None and changed.get_json()["notifications"] == {"billing": ["email"]}
    assert r.delete(f"/contacts/{untyped['id']}").status_code == 204
    assert r.get(f"/contacts/{untyped['id']}").status_code == 404
    actions = [a for (a,) in r.sql("SELECT action FROM activity_log WHERE customer_id = :i AND action LIKE "
                                   "'contact.%' ORDER BY id", i=cid)]
    assert actions == ["contact.created"] * 3 + ["contact.updated"] * 2 + ["contact.deleted"]


def test_contacts_stay_in_their_tenant(reseller):
    a, b = reseller(), reseller()
    customer = a.create()
    for _ in range(5):
        a.post(f"/customers/{customer['id']}/contacts", {"name": "Filler"})
    contact = a.post(f"/customers/{customer['id']}/contacts", {"name": "Only in A"}).get_json()
    assert b.get(f"/contacts/{contact['id']}").status_code == 404
    assert b.patch(f"/contacts/{contact['id']}", {"name": "Taken"}).status_code == 404
    assert a.get(f"/contacts/{contact['id']}").get_json()["name"] == "Only in A"


def test_readonly_reads_but_does_not_change(reseller):
    admin = reseller()
    customer = admin.create()
    admin.post(f"/customers/{customer['id']}/contacts", {"name": "Jane"})
    viewer = reseller(role="Readonly")
    assert viewer.get("/contact-types").status_code == 200
    assert viewer.post("/contact-types", {"name": "Billing"}).status_code == 403
    assert viewer.post(f"/customers/{viewer.acc.customer_id}/contacts", {"name": "X"}).status_code == 403
    manager = reseller(role="Manager")  # customers.edit, but contact types are reseller settings
    assert manager.post("/contact-types", {"name": "Billing"}).status_code == 403
    assert manager.post(f"/customers/{manager.acc.customer_id}/contacts", {"name": "X"}).status_code == 201
