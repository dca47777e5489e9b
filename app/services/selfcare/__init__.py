"""The customer's own account, as the self-care portal's pages and the customer's API (`/portal/api`) both
show it: one set of functions, so a page and an API call can never disagree about what a customer may see
or do. Every function takes the signed-in customer's id and answers only about that customer: another
customer's invoice, service or contact is "not found", exactly as if it did not exist.

- `portal_rules`: what the reseller lets its customers change themselves (profile fields, contacts) and
  the top-up bundles it offers (the settings `portal` and `topups`).
- `profile`: the profile (read, and the editable fields), the sites the customer is served at, contacts.
- `email_change`: a new e-mail address lands only once the link sent to it is opened.
- `my_services`: the customer's services with their plan, price, status and equipment.
- `plan_changes`: the plans a service can move to, what the move would cost, and the change requests.
- `network_password`: revealing a service's network password after re-entering the portal password.
- `finance`: invoices, payments and receipts, the balance, statements, credit notes, the ledger, payment methods.
- `bundles`: buying the reseller's top-up bundles from the balance, the buckets, emergency credit.
- `mpesa_bundles`: a bundle paid by M-PESA, bought when the money arrives, which pays it.
- `topup_overview`: what the Top-ups pages show (the credit, the bundles, each service's buckets and emergency credit).

Nothing here imports Flask: the doors pass the session, the customer's `Principal` (the actor of the
activity log) and, where the rule needs one, Redis.
"""
