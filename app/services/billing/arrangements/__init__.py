"""Disputes and arrangements: a customer disputes lines of an invoice, or asks to pay a large balance in
instalments, and the reseller answers. The rules, and why:

- **A dispute** (`disputes`) names lines of one issued invoice of the customer's, with a reason, a message and
  documents (`documents`); the 30 days of daily usage of each disputed line's service before the invoice are
  copied into it (`evidence`), so the reseller judges, and the customer sees, what was measured then. Its
  status is Open, Under Review, Resolved, Rejected or Escalated (the appeal to management); its answer is due
  10 business days after it was opened, in the reseller's calendar (`business_days`). Resolved, it says how:
  a usage adjustment or a service credit, each a credit note of the invoice service (the ledger stays the one
  truth of what is owed), or a payment plan for what is left.
- **A payment plan** (`plans`) is asked for on a balance of at least the reseller's threshold, in a number of
  instalments the reseller allows (`policy`, the setting `payment_plans`); the reseller approves it (possibly
  with another schedule) or declines it. Its instalments have due dates and Decimal amounts, the last one
  absorbing the rounding. What is paid on the covered invoices after the approval counts toward the
  instalments by the day it was allocated (`progress`): an instalment not reached by its due date plus the
  grace days is missed, which ends the plan (Defaulted). The daily job (`plans.check`) records that, and
  Completed, once.
- **Dunning and both** (`holds`, which dunning asks): dunning never acts on an amount under dispute, nor on an
  invoice of a plan in good standing. A disputed invoice is dunned only for what it owes beyond its disputed
  lines (the customer is expected to pay the rest: a dispute of one line does not stop the reminders for the
  whole bill), so it is held entirely only while what it owes is all under dispute. An invoice of an Active
  plan is held while no instalment is missed; a missed one ends the hold on the same day, whether or not the
  daily job has run yet, because the hold is worked out from the instalments and the payments, not from a
  flag. A hold prevents new steps; it does not undo one already taken: services dunning limited for an
  invoice before it was disputed or planned stay so until the invoice is cleared (restoring them would leave
  dunning nothing to do if the hold ended: it takes each step once per invoice). A held invoice that dunning
  never acted on does not keep another invoice's action in place.

Every change is in the history (`history`: `arrangement_events`, and the customer's activity log), and the
customer is told of every change of status by e-mail through the outbox (`notices`).
"""
