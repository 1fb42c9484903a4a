"""Requests sent at one instant, byte by byte: what a burst of simultaneous clients looks
like to a server."""

import http.client
import json
import socket

from harness.live import HOST


def raw_request(
    method: str, path: str, body=None, *, token: str | None = None, headers: dict | None = None
) -> bytes:
    """The bytes of one HTTP/1.1 request that closes its connection; a dict body is JSON,
    a str body is sent as a form."""
    headers = {"Host": HOST, "Connection": "close", **(headers or {})}
    if isinstance(body, dict | list):
        body, headers["Content-Type"] = json.dumps(body), "application/json"
    elif isinstance(body, str):
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    payload = (body or "").encode()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if payload or method != "GET":
        headers["Content-Length"] = str(len(payload))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"{method} {path} HTTP/1.1\r\n{head}\r\n".encode() + payload


def burst(
    requests: list[tuple[int, bytes]], *, sources: list[str] | None = None, whole: bool = True
) -> list[int]:
    """Send ``requests`` (a port, the request's bytes) at the same instant, each on a
    connection of its own (from ``sources[i]``, an address 127.x.y.z, where given): every
    request but its last byte first, so that no server has read any of them whole; then,
    once all are open, every last byte (never, if not ``whole``: a body that never comes).
    The answers' statuses, in the order of ``requests``."""
    connections = []
    try:
        for n, (port, data) in enumerate(requests):
            source = (sources[n], 0) if sources else None
            connection = socket.create_connection((HOST, port), timeout=120, source_address=source)
            connections.append(connection)
            connection.sendall(data[:-1])
        for connection, (_, data) in zip(connections, requests, strict=True):
            connection.sendall(data[-1:] if whole else b"")
        return [_status(connection) for connection in connections]
    finally:
        for connection in connections:
            connection.close()


def _status(connection: socket.socket) -> int:
    response = http.client.HTTPResponse(connection)
    response.begin()
    response.read()
    return response.status
