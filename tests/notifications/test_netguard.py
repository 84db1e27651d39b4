"""Which webhook targets are allowed (SSRF), without the database."""

from __future__ import annotations

import ipaddress

import pytest

from notifications import netguard


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/hook",
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/",
        "http:///nohost",
        "https://user:pass@example.org/hook",
        "http://example.org:99999/",
        "http://exa mple.org/",
        "",
    ],
)
def test_it_refuses_urls_that_are_not_plain_http_or_https(url):
    with pytest.raises(netguard.UnsafeUrl):
        netguard.url_parse(url)


def test_it_parses_host_port_and_target():
    target = netguard.url_parse("https://Example.org:8443/a/b?x=1#frag")
    assert (target.scheme, target.host, target.port, target.target) == (
        "https",
        "example.org",
        8443,
        "/a/b?x=1",
    )
    assert target.host_header == "example.org:8443"
    assert netguard.url_parse("http://[::1]/").host_header == "[::1]"
    assert netguard.url_parse("http://example.org").target == "/"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "169.254.1.1",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fd00:ec2::254",
        "fc00::5",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",
        "2002:7f00:1::",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert netguard.address_refusal(ipaddress.ip_address(address), allow_private=False)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert netguard.address_refusal(ipaddress.ip_address(address), allow_private=False) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "::1", "192.168.1.1"])
def test_the_override_allows_private_networks(address):
    assert netguard.address_refusal(ipaddress.ip_address(address), allow_private=True) is None


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254", "0.0.0.0"])
def test_metadata_and_unspecified_stay_refused_even_with_the_override(address):
    assert netguard.address_refusal(ipaddress.ip_address(address), allow_private=True)


def test_a_name_resolving_to_loopback_is_refused():
    with pytest.raises(netguard.UnsafeUrl, match=r"localhost resolves to .*loopback"):
        netguard.url_check("http://localhost:8080/hook", allow_private=False)
    assert netguard.url_check("http://localhost:8080/hook", allow_private=True).host == "localhost"


def test_numeric_tricks_resolve_to_what_they_are():
    # 2130706433 is 127.0.0.1 as one integer; the resolver says so, and the vetting sees the address.
    with pytest.raises(netguard.UnsafeUrl, match="loopback"):
        netguard.url_check("http://2130706433/", allow_private=False)


def test_an_unresolvable_name_is_accepted_at_registration_but_not_resolvable_at_send():
    target = netguard.url_check("https://no-such-host.invalid/hook", allow_private=False)
    with pytest.raises(netguard.Unresolvable):
        netguard.resolve(target, allow_private=False)
