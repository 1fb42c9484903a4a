"""urlopen for http and https, with one deadline for the whole exchange.

urllib's `timeout` bounds each socket operation, not their sum: a server that sends a
header line every few seconds never trips it, and holds the caller as long as it likes.
Here each operation (connecting, the TLS handshake, every read of the headers and the
body) may wait only for the time left, so together they end by the deadline. Name
resolution is the system's and is not bounded here.
"""

import http.client
import io
import time
import urllib.parse
import urllib.request

WEB_SCHEMES = ("http", "https")


class Deadline:
    """A moment by which a download must end, and the timeout that each socket operation
    gets so that it does: `idle` seconds, or what is left if that is less."""

    def __init__(self, seconds: float, *, idle: float):
        self.idle = idle
        self._end = time.monotonic() + seconds

    def passed(self) -> bool:
        return time.monotonic() >= self._end

    def timeout(self) -> float:
        """The timeout of the next operation; TimeoutError when no time is left."""
        left = self._end - time.monotonic()
        if left <= 0:
            raise TimeoutError("the deadline passed")
        return min(self.idle, left)


class RedirectRefused(Exception):
    """The server redirected to a scheme other than http or https."""

    def __init__(self, target: str):
        super().__init__(f"redirected to {target}")
        self.target = target


def open_url(url: str, deadline: Deadline) -> http.client.HTTPResponse:
    """GET `url` as urlopen does (proxies from the environment included); connecting,
    redirects and every later read of the response end by `deadline`."""
    opener = urllib.request.build_opener(_TimedHandler(deadline), _WebRedirectHandler())
    return opener.open(url)


class _TimedReader(io.RawIOBase):
    """The socket's reader, each read with the time left: a buffered readline (one
    header line) may take many reads, and each would otherwise get a full timeout."""

    def __init__(self, raw, sock, deadline: Deadline):
        self._raw, self._sock, self._deadline = raw, sock, deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int | None:
        self._sock.settimeout(self._deadline.timeout())
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()  # gives the socket back, as http.client expects of its reader
        super().close()


class _TimedResponse(http.client.HTTPResponse):
    def __init__(self, sock, *args, deadline: Deadline, **kwargs):
        super().__init__(sock, *args, **kwargs)
        # http.client reads the status, the headers and the body from self.fp only.
        self.fp = io.BufferedReader(_TimedReader(self.fp.detach(), sock, deadline))


class _TimedHTTPConnection(http.client.HTTPConnection):
    deadline: Deadline  # set by _TimedHandler

    def connect(self) -> None:
        self.timeout = self.deadline.timeout()
        super().connect()
        # HTTPS shakes hands on this socket next (see below): with the time left too.
        self.sock.settimeout(self.deadline.timeout())

    def response_class(self, sock, *args, **kwargs) -> _TimedResponse:  # type: ignore[override]
        """What http.client reads every response with, a proxy's tunnel reply included."""
        return _TimedResponse(sock, *args, deadline=self.deadline, **kwargs)


class _TimedHTTPSConnection(http.client.HTTPSConnection, _TimedHTTPConnection):
    """HTTPSConnection.connect calls _TimedHTTPConnection.connect, then the handshake."""


class _TimedHandler(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
    """urllib's http and https handlers, opening _Timed connections on one deadline."""

    def __init__(self, deadline: Deadline):
        super().__init__()
        self.deadline = deadline

    def do_open(self, http_class, req, **http_conn_args):
        https = issubclass(http_class, http.client.HTTPSConnection)
        timed = _TimedHTTPSConnection if https else _TimedHTTPConnection

        def connection(host, **options):
            opened = timed(host, **options)
            opened.deadline = self.deadline
            return opened

        return super().do_open(connection, req, **http_conn_args)


class _WebRedirectHandler(urllib.request.HTTPRedirectHandler):
    """urllib's redirects, to http and https only: urllib's own follow ftp too, and
    refuse the other schemes in words of their own."""

    def http_error_302(self, req, fp, code, msg, headers):
        # The target as urllib reads it: the first Location (else URI), relative to req.
        location = headers.get("location", headers.get("uri", ""))
        target = urllib.parse.urljoin(req.full_url, location)
        if urllib.parse.urlsplit(target).scheme not in WEB_SCHEMES:
            fp.close()
            raise RedirectRefused(target)
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302
