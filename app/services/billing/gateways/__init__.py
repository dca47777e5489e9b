"""Payment gateways that tell us about money: M-PESA (Daraja) and a card processor in Stripe's style.

What every gateway shares (`events`): a notification is applied exactly once, because the first thing
done with it — after its signature or token is checked, before anything else is written — is inserting
its `GatewayEvent` row under the provider's event id, `ON CONFLICT DO NOTHING`. Fifty deliveries of the
same event at once queue on that unique key; the first applies it, the other forty-nine find the row and
are acknowledged with no effect. A notification that fails its check writes nothing at all.

Per-tenant credentials (`config`): the Stripe-style webhook secret and API key, encrypted at rest, and the
M-PESA webhook token, stored only as a keyed digest; the Daraja API credentials (`daraja_settings`),
encrypted. They live in the tenant's `payment_gateways` setting; the gateways' addresses are the
operator's (`endpoints`).

Payments customers start from the portal (`initiation`, shared): an M-PESA STK push (`stk_push`, over
`daraja`) or a hosted card checkout (`checkout`); the notifications above then settle them.
"""
