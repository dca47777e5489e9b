"""Commission rules (console) and a reseller's commission lines and totals."""
