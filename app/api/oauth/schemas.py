from marshmallow import Schema, fields, validate

from app.models.oauth import AUTH_METHODS, GRANT_TYPES


class ClientIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    grant_types = fields.List(fields.String(validate=validate.OneOf(GRANT_TYPES)), required=True,
                              validate=validate.Length(min=1, max=len(GRANT_TYPES)))
    scopes = fields.List(fields.String(validate=validate.Length(max=60)), required=True,
                         validate=validate.Length(min=1, max=100),
                         metadata={"description": "permission names the client may be granted"})
    redirect_uris = fields.List(fields.String(validate=validate.Length(max=2000)), load_default=list,
                                validate=validate.Length(max=10),
                                metadata={"description": "exact https URIs (http only to localhost)"})
    token_endpoint_auth_method = fields.String(load_default="client_secret_basic",
                                               validate=validate.OneOf(AUTH_METHODS),
                                               metadata={"description": "`none` makes a public (PKCE-only) client"})


class ClientOut(Schema):
    client_id = fields.String(required=True)
    name = fields.String(required=True)
    grant_types = fields.List(fields.String(), required=True)
    scopes = fields.List(fields.String(), required=True)
    redirect_uris = fields.List(fields.String(), required=True)
    token_endpoint_auth_method = fields.String(required=True)
    created_by = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class ClientCreatedOut(ClientOut):
    client_secret = fields.String(allow_none=True, metadata={
        "description": "shown this once; only a digest is kept (null for public clients)"})


class ScopeOut(Schema):
    scope = fields.String(required=True)
    description = fields.String(required=True)


class ConsentClientOut(Schema):
    client_id = fields.String(required=True)
    name = fields.String(required=True)


class ConsentOut(Schema):
    client = fields.Nested(ConsentClientOut, required=True)
    redirect_uri = fields.String(required=True)
    state = fields.String(allow_none=True)
    requested = fields.List(fields.Nested(ScopeOut), required=True)
    granted = fields.List(fields.String(), required=True,
                          metadata={"description": "what the app gets if you approve: requested ∩ your permissions"})
    withheld = fields.List(fields.String(), required=True,
                           metadata={"description": "requested, but you do not hold it, so the app will not get it"})


class DecisionIn(Schema):
    confirm = fields.Boolean(required=True, metadata={"description": "true approves, false denies"})


class TokenOut(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True)
    refresh_token = fields.String()
    scope = fields.String()


class OAuthErrorOut(Schema):
    error = fields.String(required=True)
    error_description = fields.String()


class IntrospectionOut(Schema):
    active = fields.Boolean(required=True)
    scope = fields.String()
    client_id = fields.String()
    token_type = fields.String()
    exp = fields.Integer()
    iat = fields.Integer()
    sub = fields.String()
    username = fields.String()
    tenant_id = fields.Integer()


class MetadataOut(Schema):
    issuer = fields.String(required=True)
    authorization_endpoint = fields.String(required=True)
    token_endpoint = fields.String(required=True)
    revocation_endpoint = fields.String(required=True)
    introspection_endpoint = fields.String(required=True)
    scopes_supported = fields.List(fields.String(), required=True)
    response_types_supported = fields.List(fields.String(), required=True)
    response_modes_supported = fields.List(fields.String(), required=True)
    grant_types_supported = fields.List(fields.String(), required=True)
    token_endpoint_auth_methods_supported = fields.List(fields.String(), required=True)
    revocation_endpoint_auth_methods_supported = fields.List(fields.String(), required=True)
    introspection_endpoint_auth_methods_supported = fields.List(fields.String(), required=True)
    code_challenge_methods_supported = fields.List(fields.String(), required=True)
    service_documentation = fields.String(required=True)
