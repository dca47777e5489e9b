"""Identity and access: who the caller is (a Principal) and what they may do (permissions)."""
