import pytest

from tenants.hosts import normalise_host, parse_proxies, request_host


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("abc.localhost", "abc.localhost"),
        ("ABC.LocalHost", "abc.localhost"),
        ("abc.localhost:8000", "abc.localhost"),
        ("abc.localhost.", "abc.localhost"),
        ("ABC.localhost.:443", "abc.localhost"),
        ("  abc.localhost  ", "abc.localhost"),
        ("[::1]:8000", "[::1]"),
        ("127.0.0.1:80", "127.0.0.1"),
        ("", None),
        (None, None),
        ("abc.localhost:port", None),
        ("abc..localhost", None),
        ("abc.localhost..", None),
        ("-abc.localhost", None),
        ("abc_def.localhost", None),
        ("abc.localhost/evil", None),
        ("a" * 64 + ".com", None),
        ("ab c.com", None),
        ("[::1", None),
    ],
)
def test_normalise_host(raw, expected):
    assert normalise_host(raw) == expected


PROXIES = parse_proxies("10.0.0.0/8, 192.168.1.5")


def test_forwarded_host_ignored_from_untrusted_peer():
    assert request_host("abc.localhost", "xyz.localhost", "203.0.113.9", PROXIES) == "abc.localhost"


def test_forwarded_host_used_from_trusted_proxy():
    assert request_host("internal:8000", "XYZ.localhost", "10.1.2.3", PROXIES) == "xyz.localhost"
    assert request_host("internal", "xyz.localhost", "192.168.1.5", PROXIES) == "xyz.localhost"


def test_forwarded_host_takes_the_value_the_proxy_appended():
    # the client sent "evil.example"; our proxy appended the real host
    assert request_host("internal", "evil.example, abc.localhost", "10.0.0.1", PROXIES) == "abc.localhost"


def test_no_proxies_configured_means_no_forwarding():
    assert request_host("abc.localhost", "xyz.localhost", "10.0.0.1", ()) == "abc.localhost"
