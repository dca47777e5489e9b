"""The master ISP's staff accounts, managed on the console host (app/services/staff.py)."""
