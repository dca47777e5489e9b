"""Commissions: the rules the master ISP sets per reseller, the engine that turns customers' payments into
lines in each earner's schema (pass-through along the tree), the period close, and reversals."""
