"""Who a request comes from: the client's address, which only a proxy the operator declared
can vouch for, and the key that per-client limits count it by."""

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """The client's address: the socket's, unless the socket is a proxy the operator
    declared (TRUSTED_PROXIES). Then it is the nearest X-Forwarded-For address that is not
    such a proxy: the one that proxy saw, since proxies append and clients can only prepend.
    From anyone else X-Forwarded-For, X-Real-IP and Forwarded change nothing."""
    remote = request.META.get("REMOTE_ADDR", "")
    if not _is_trusted_proxy(remote):
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    hops = [address.strip() for address in forwarded if address.strip()]
    for address in reversed(hops):
        if not _is_trusted_proxy(address):
            return address
    return hops[0] if hops else remote


def client_key(request) -> str:
    """Whom a per-client limit counts: the client's address, or for IPv6 its network of
    IPV6_CLIENT_PREFIX bits (one subscriber commonly holds a whole /64, so counting full
    addresses would give one person millions of clients)."""
    address = client_ip(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return address
    if ip.ipv4_mapped:  # ::ffff:a.b.c.d is an IPv4 client
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/{settings.IPV6_CLIENT_PREFIX}", strict=False))


def _is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXIES)
