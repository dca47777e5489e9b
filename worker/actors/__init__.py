"""The actors, one module per subject. `worker.main` imports each module, after the broker exists."""
