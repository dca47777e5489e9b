"""The RADIUS server (authentication, accounting, CoA/Disconnect); arrives with its issue."""
