"""A reseller's account with the master ISP ("Credit Management & Financial Controls" in 001, issue 7).

- `accounts`: the account and its credit settings (limit, thresholds, actions at the limit, payment terms);
- `charges`: the wholesale accrual from the reseller's issued customer invoices;
- `payments`: the reseller's payments to the master ISP, allocated to the oldest charges first;
- `credit`: balance, utilisation, threshold alerts, and the gates the customer and service paths ask;
- `emergency`: emergency credit (up to 25 % of the limit, 48 hours, approved by the master ISP);
- `alerts`: the e-mails to the reseller's admins when a threshold is crossed.

Everything is in `public` (the master ISP has no schema), keyed by the reseller's tenant id.
"""
