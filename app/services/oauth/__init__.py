"""The OAuth 2 authorization server: tenant-bound clients, their codes and tokens.

Built on Authlib's framework-free core (`authlib.oauth2`); the web door (app/api/oauth/) adds the Flask
request and response adapters and nothing else. A client belongs to one tenant and is only found on
that tenant's hosts; every token names its tenant (`bho.<tenant id>.…`) so the request router refuses it
elsewhere before anything is looked up. Scopes are the permission names of
app/services/auth/permissions.py.
"""
