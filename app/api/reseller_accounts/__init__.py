"""A reseller's account with the master ISP: the console's view and settings, the reseller's view."""
