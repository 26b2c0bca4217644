"""Outgoing webhook calls, apart from the models (no Odoo environment here; the models translate).

Protection against server-side request forgery: only ``https`` URLs without credentials; the host is
resolved and every address it resolves to must be public (no loopback, private, link-local,
multicast, reserved or unspecified address) unless the caller allows private addresses. The POST is
then pinned to the address that was checked (TLS still verifies the certificate against the host
name), so a DNS answer that changes between the check and the connection (DNS rebinding) cannot
send it elsewhere. Redirects are never followed. Proxies from the environment are not used, for the
same reason; the CA bundle can still be set with the usual ``REQUESTS_CA_BUNDLE`` variable.
"""

import ipaddress
import os
import socket
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

# Bytes of the receiver's answer that are read and kept.
RESPONSE_MAX_BYTES = 4000


class WebhookUrlError(Exception):
    """The URL cannot be called. ``code`` says why: ``scheme`` (not https), ``host`` (no valid host
    or port), ``port`` (not 443, ``address`` holds it), ``credentials`` (user:password@ in the URL),
    ``unresolved`` (DNS gives no address) or ``forbidden`` (an address is not public; ``address``
    holds it)."""

    def __init__(self, code, address=None):
        super().__init__(code, address)
        self.code = code
        self.address = address


class WebhookTransportError(Exception):
    """No HTTP answer: ``code`` is ``timeout``, ``connection`` or ``tls``; ``detail`` the error."""

    def __init__(self, code, detail=""):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


class WebhookResponse:
    """What the receiver answered: status, the start of the body, and two useful headers."""

    def __init__(self, status, body, location=None, retry_after=None):
        self.status = status
        self.body = body
        self.location = location
        self.retry_after = retry_after


def is_forbidden_address(address):
    """Whether ``address`` (an ``ipaddress`` object) is not a public internet address."""
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def _ip_literal(host):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_url(url, allow_private=False, allow_ports=False, resolve=True):
    """Check a webhook URL and return ``(parts, addresses)``: the ``urlsplit`` result and the
    addresses the host resolves to (empty when ``resolve`` is False and the host is a name). Only
    the https port (443) is allowed unless ``allow_ports``: other ports are those of services that
    are not web sites (mail, databases, administration consoles).

    :raises WebhookUrlError: when the URL must not be called
    """
    parts = urlsplit((url or "").strip())
    if parts.scheme.lower() != "https":
        raise WebhookUrlError("scheme")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlError("credentials")
    try:
        host = parts.hostname
        port = parts.port or 443
    except ValueError as error:
        raise WebhookUrlError("host") from error
    if not host:
        raise WebhookUrlError("host")
    literal = _ip_literal(host)
    addresses = [literal] if literal else []
    if not literal and resolve:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise WebhookUrlError("unresolved") from error
        for info in infos:
            address = ipaddress.ip_address(info[4][0].split("%")[0])
            if address not in addresses:
                addresses.append(address)
        if not addresses:
            raise WebhookUrlError("unresolved")
    if not allow_private:
        for address in addresses:
            if is_forbidden_address(address):
                raise WebhookUrlError("forbidden", address=str(address))
    if port != 443 and not allow_ports:
        raise WebhookUrlError("port", address=str(port))
    return parts, addresses


def post(url, body, headers, timeout, allow_private=False, allow_ports=False):
    """POST ``body`` (bytes) to ``url`` after checking it, connected to the checked address.

    :raises WebhookUrlError: the URL must not be called (see :func:`check_url`)
    :raises WebhookTransportError: no HTTP answer (timeout, connection or TLS error)
    :return: a :class:`WebhookResponse`
    """
    parts, addresses = check_url(url, allow_private=allow_private, allow_ports=allow_ports)
    address = addresses[0]
    host = parts.hostname
    pinned_host = f"[{address}]" if address.version == 6 else str(address)
    host_header = f"[{host}]" if ":" in host else host
    if parts.port:
        pinned_host = f"{pinned_host}:{parts.port}"
        host_header = f"{host_header}:{parts.port}"
    pinned_url = urlunsplit(("https", pinned_host, parts.path or "/", parts.query, ""))
    adapter = HTTPAdapter(max_retries=0)
    # connect to the checked address, but present and verify the host name (SNI, certificate)
    adapter.poolmanager.connection_pool_kw.update(server_hostname=host, assert_hostname=host)
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment: the checked address is the one called
    session.mount("https://", adapter)
    try:
        with session:
            response = session.post(
                pinned_url,
                data=body,
                headers={**headers, "Host": host_header},
                timeout=timeout,
                allow_redirects=False,
                stream=True,
                verify=os.environ.get("REQUESTS_CA_BUNDLE") or True,
            )
            with response:
                content = response.raw.read(RESPONSE_MAX_BYTES, decode_content=True) or b""
                return WebhookResponse(
                    response.status_code,
                    content.decode("utf-8", errors="replace"),
                    location=response.headers.get("Location"),
                    retry_after=response.headers.get("Retry-After"),
                )
    except (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError) as error:
        raise WebhookTransportError("timeout", str(error)) from error
    except requests.exceptions.SSLError as error:
        raise WebhookTransportError("tls", str(error)) from error
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
        raise WebhookTransportError("connection", str(error)) from error
