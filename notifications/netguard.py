"""Where webhooks may go (OWASP API7, SSRF). Pure Python: the caller passes the policy in.

A URL is judged by every address its host resolves to, at registration and again right before each
attempt (DNS can change between the two). The sender then connects to the address vetted here, never to a
fresh lookup, so a name that re-resolves between check and connect (DNS rebinding) cannot slip through.

Without `allow_private`, only globally routable unicast addresses pass. With it (local development and
tests), loopback, private and link-local ranges pass too, but cloud metadata services, the unspecified
address and multicast stay refused whatever the setting.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance metadata services: credentials live there, so they are never a webhook target.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
MAX_URL_LENGTH = 2000
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeUrl(ValueError):
    """The URL may not be used as a webhook target; the message says why, for the API caller."""


class Unresolvable(UnsafeUrl):
    """The host has no address right now (a typo, or DNS is down)."""


@dataclass(frozen=True)
class Target:
    scheme: str  # "http" | "https"
    host: str  # IDNA-encoded name, or an IP literal without brackets
    port: int
    target: str  # path + query, what goes on the request line
    host_header: str

    @property
    def is_ip_literal(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True


def url_parse(url: str) -> Target:
    """Syntax only: scheme, host, port; no credentials in the URL (they would show in every listing)."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeUrl("A URL is required.")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl(f"At most {MAX_URL_LENGTH} characters.")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise UnsafeUrl("The URL may not contain whitespace or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"Not a valid URL: {exc}.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeUrl("Only http and https URLs are allowed.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("Credentials in the URL are not allowed; authenticate with the webhook signature.")
    hostname = parts.hostname
    if not hostname:
        raise UnsafeUrl("The URL has no host.")
    try:
        ip = ipaddress.ip_address(hostname)
        host = str(ip)
        host_header = f"[{host}]" if ip.version == 6 else host
    except ValueError:
        try:
            host = hostname.encode("idna").decode("ascii")
        except UnicodeError:
            raise UnsafeUrl("The host name is not valid.") from None
        host_header = host
    port = port or (443 if scheme == "https" else 80)
    if port != (443 if scheme == "https" else 80):
        host_header = f"{host_header}:{port}"
    target = parts.path or "/"
    if parts.query:
        target = f"{target}?{parts.query}"
    return Target(scheme=scheme, host=host, port=port, target=target, host_header=host_header)


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_refusal(ip: IPAddress, *, allow_private: bool) -> str | None:
    """Why this address may not be a webhook target, or None if it may."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        why = address_refusal(embedded, allow_private=allow_private)
        return f"{why} (embedded in {ip})" if why else None
    if ip in METADATA_ADDRESSES:
        return f"{ip} is a cloud metadata address"
    if ip.is_unspecified:
        return f"{ip} is the unspecified address"
    if ip.is_multicast:
        return f"{ip} is a multicast address"
    if allow_private:
        return None
    for flag, label in (
        ("is_loopback", "a loopback"),
        ("is_link_local", "a link-local"),
        ("is_private", "a private"),
        ("is_reserved", "a reserved"),
    ):
        if getattr(ip, flag):
            return f"{ip} is {label} address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


def resolve(target: Target, *, allow_private: bool) -> list[str]:
    """Every address of the host, vetted; refuses the URL if any one of them is not allowed.

    Refusing on any bad address (rather than picking a good one) denies a name that points at both a
    public and an internal address the chance to be tried against the internal one elsewhere.
    """
    try:
        infos = socket.getaddrinfo(
            target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise Unresolvable(f"The host {target.host!r} does not resolve: {exc}.") from None
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]  # drop an IPv6 zone id
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise Unresolvable(f"The host {target.host!r} has no address.")
    for address in addresses:
        why = address_refusal(ipaddress.ip_address(address), allow_private=allow_private)
        if why:
            shown = "" if target.is_ip_literal else f"{target.host} resolves to "
            raise UnsafeUrl(f"Refused: {shown}{why}. Webhooks may only go to public addresses.")
    return addresses


def url_check(url: str, *, allow_private: bool, require_resolvable: bool = False) -> Target:
    """The registration check: syntax, then every current address of the host.

    A name that does not resolve right now is accepted unless `require_resolvable`: DNS being down must
    not block registration, and each attempt checks again before anything is sent.
    """
    target = url_parse(url)
    try:
        resolve(target, allow_private=allow_private)
    except Unresolvable:
        if require_resolvable:
            raise
    return target
