"""A stand-in for the two payment gateways, for the demo that `backhaul run --demo` starts: no demo machine
reaches Safaricom or a card processor, and a demo in which Pay ends in "M-PESA could not be reached" shows
nothing. It speaks the parts of their APIs Backhaul uses, at the addresses `endpoints` reads, and acts as the
far side would:

- **Daraja** (`daraja.py`): the OAuth token, the STK push and its status query. A push rings a pretend
  phone, the page `/phone`, where the prompt can be accepted or cancelled; one nobody answers is accepted
  after `ANSWER_AFTER` seconds, so that the demo's "check your phone" ends by itself. The result goes to
  the push's CallBackURL as Daraja posts it.
- **The card processor** (`checkout.py`): checkout sessions (with their Idempotency-Key), the hosted
  checkout page the customer is sent to, and the signed `checkout.session.completed` webhook when they pay.

It holds its state in memory and answers anyone who knows the demo's keys; it is not a test double of ours
(tests keep their own, which record every request) and nothing in production starts it.

Callbacks go to the web server named by `--web`, with the Host header of the address they are for: the
demo's host names (abc.localhost, …) need not resolve on the machine, only in the browser. Only paths
under /webhooks/ are ever called, so the simulator cannot be used to reach anything else.
"""
