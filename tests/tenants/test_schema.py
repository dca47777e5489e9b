import pytest

from tenants.schema import InvalidTenantCode, quote_schema, schema_for_code, subdomain_for_code, validate_schema


def test_schema_derives_from_code():
    assert schema_for_code("ABC_ISP") == "t_abc_isp"
    assert subdomain_for_code("ABC_ISP") == "abc-isp"


@pytest.mark.parametrize(
    "name",
    [
        't_a"; drop schema public;--',
        "t_a; drop schema public",
        "public",
        "pg_catalog",
        "t_",
        "T_ABC",
        "t_abc-def",
        "t_" + "a" * 61,
        "t_abc\x00",
        "t_ä",
        "",
        None,
    ],
)
def test_schema_injection_and_bad_names_refused(name):
    with pytest.raises(InvalidTenantCode):
        validate_schema(name)
    with pytest.raises(InvalidTenantCode):
        quote_schema(name)


@pytest.mark.parametrize("code", ['A"; DROP SCHEMA public;--', "abc", "1ABC", "A", "A-B", "A B", "A" * 41])
def test_bad_codes_refused(code):
    with pytest.raises(InvalidTenantCode):
        schema_for_code(code)


def test_quote_wraps_valid_names():
    assert quote_schema("t_abc_1") == '"t_abc_1"'
