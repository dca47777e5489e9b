"""A reseller's custom domains and their DNS verification."""
