"""Billing: the ledger and the documents that post to it (invoices, credit notes, payments), billing
runs, dunning and top-ups. Every module here works inside the current tenant's transaction."""
