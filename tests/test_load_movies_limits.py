"""load_movies against hostile or broken sources: bounded in size and time, and every
failure one clear sentence (a CommandError), never a traceback nor a file left behind."""

import hashlib
import re
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command

from movies import ml100k
from movies.ml100k import DataSourceError
from movies.models import Movie
from movies.services import movies_load

pytestmark = pytest.mark.django_db

BODY = b"x" * 2000
DEADLINE = 1.5  # seconds, for the tests that run out of time
MARGIN = 1  # seconds past a deadline that a busy test machine may take to stop


@pytest.fixture(autouse=True)
def isolated_settings(settings, tmp_path):
    settings.ML100K_CACHE_DIR = tmp_path / "cache"
    settings.ML100K_SOURCE = ""
    return settings


class Misbehaving(BaseHTTPRequestHandler):
    """Each path is a way for a server to misbehave."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        getattr(self, self.path.strip("/").replace("-", "_"))()

    def _head(self, **headers):
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()

    def announced_too_large(self):
        self._head(Content_Length=str(len(BODY)))
        self.wfile.write(BODY)

    def streamed_too_large(self):  # no length announced: counted as it comes
        self._head(Connection="close")
        self.wfile.write(BODY)
        self.close_connection = True

    def drip(self):
        self._head(Content_Length="1000")
        for _ in range(1000):
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(0.05)

    def cut_short(self):
        self._head(Content_Length="1000", Connection="close")
        self.wfile.write(b"x" * 10)
        self.close_connection = True

    def chunk_cut_short(self):
        self._head(Transfer_Encoding="chunked", Connection="close")
        self.wfile.write(b"3e8\r\n" + b"x" * 10)
        self.close_connection = True

    def header_drip(self):  # each header line comes quickly, the end of them never in time
        self.send_response(200)
        for number in range(40):
            self.send_header(f"X-Drip-{number}", "x")
            self.flush_headers()
            time.sleep(0.25)
        self.end_headers()

    def cache_watch(self):  # what a kill at this moment would leave in the cache
        self.server.cache_seen.extend(self.server.cache_dir.iterdir())
        self.cut_short()

    def redirect_to_ftp(self):
        self._redirect("ftp://127.0.0.1:1/ml-100k.zip")

    def redirect_to_file(self):
        self._redirect("file:///etc/passwd")

    def redirect_to_zip(self):
        self._redirect("/zip")

    def _redirect(self, location):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def zip(self):
        self._head(Content_Length=str(len(self.server.zip)))
        self.wfile.write(self.server.zip)

    def log_message(self, *args):
        pass


@pytest.fixture
def misbehaving_server(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    server.cache_dir, server.cache_seen = settings.ML100K_CACHE_DIR, []
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def misbehaving(misbehaving_server):
    return f"http://127.0.0.1:{misbehaving_server.server_port}"


def refused(source, match):
    """movies_load refuses with `match`; the command says so in one line; nothing loaded."""
    with pytest.raises(DataSourceError, match=match):
        movies_load(source=source, progress=False)
    with pytest.raises(CommandError) as caught:
        call_command("load_movies", source=source, verbosity=0)
    assert "\n" not in str(caught.value)
    assert str(caught.value).endswith("The database is unchanged.")
    assert not Movie.objects.exists()


def nothing_cached(settings):
    """No file at all in the cache: neither a .part nor anything else."""
    cache = settings.ML100K_CACHE_DIR
    return not cache.exists() or not list(cache.iterdir())


# --- Downloads --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["announced-too-large", "streamed-too-large"])
def test_a_download_over_the_limit_is_stopped(misbehaving, settings, monkeypatch, path):
    monkeypatch.setattr(ml100k, "MAX_DOWNLOAD_BYTES", 1000)
    refused(f"{misbehaving}/{path}", r"is over 1,000 bytes, far more than ml-100k")
    assert nothing_cached(settings)


def test_a_download_past_its_deadline_is_stopped(misbehaving, settings, monkeypatch):
    monkeypatch.setattr(ml100k, "DOWNLOAD_DEADLINE", 0.3)
    refused(f"{misbehaving}/drip", r"took over 0.3 seconds: stopped")
    assert nothing_cached(settings)


def test_the_deadline_covers_the_headers(misbehaving, settings, monkeypatch):
    """A header line every quarter second: no single read is slow, the whole is."""
    monkeypatch.setattr(ml100k, "DOWNLOAD_DEADLINE", DEADLINE)
    started = time.monotonic()
    refused(f"{misbehaving}/header-drip", rf"took over {DEADLINE} seconds: stopped")
    assert time.monotonic() - started < 2 * (DEADLINE + MARGIN)  # refused() tries twice
    assert nothing_cached(settings)


def test_a_download_in_progress_has_no_name_in_the_cache(misbehaving_server, misbehaving):
    """So that even a kill, which runs no clean-up, leaves nothing partial behind."""
    with pytest.raises(DataSourceError):
        movies_load(source=f"{misbehaving}/cache-watch", progress=False)
    assert misbehaving_server.cache_seen == []


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("redirect-to-ftp", "ftp://127.0.0.1:1/ml-100k.zip"),
        ("redirect-to-file", "file:///etc/passwd"),
    ],
)
def test_a_redirect_off_http_and_https_is_refused(misbehaving, settings, path, target):
    refused(
        f"{misbehaving}/{path}",
        rf"redirects to {re.escape(target)}, which is not http or https: refused",
    )
    assert nothing_cached(settings)


def test_a_redirect_within_http_is_followed(misbehaving_server, misbehaving, ml100k_zip, settings):
    misbehaving_server.zip = ml100k_zip.read_bytes()
    sha256 = hashlib.sha256(misbehaving_server.zip).hexdigest()
    movies_load(source=f"{misbehaving}/redirect-to-zip", sha256=sha256, progress=False)
    assert Movie.objects.count() == 10
    assert [path.name for path in settings.ML100K_CACHE_DIR.iterdir()] == ["redirect-to-zip"]


@pytest.mark.parametrize("path", ["cut-short", "chunk-cut-short"])
def test_a_download_cut_short_says_so(misbehaving, settings, path):
    refused(f"{misbehaving}/{path}", r"the connection closed before the whole file came")
    assert nothing_cached(settings)


def test_a_cache_folder_that_cannot_be_used_says_so(misbehaving, settings, tmp_path):
    settings.ML100K_CACHE_DIR = tmp_path / "a-file"
    settings.ML100K_CACHE_DIR.write_text("not a folder")
    refused(f"{misbehaving}/cut-short", r"The download cache .* cannot be used .*ML100K_CACHE_DIR")


# --- Zip members ------------------------------------------------------------------------


def test_a_member_over_the_limit_is_not_unpacked(ml100k_zip, monkeypatch):
    monkeypatch.setattr(ml100k, "MAX_FILE_BYTES", 1000)
    refused(str(ml100k_zip), r"ml-100k/u\.\w+ in .* holds [\d,]+ bytes, over the 1,000")


def _headers(data: bytes):
    """Offsets of every local (flags at +6) and central (flags at +8) zip header."""
    for signature, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at != -1:
            yield at, flags
            at = data.find(signature, at + 4)


def test_an_encrypted_member_is_refused(ml100k_zip):
    data = bytearray(ml100k_zip.read_bytes())
    for at, flags in _headers(data):
        data[at + flags] |= 0x1  # the "encrypted" flag
    ml100k_zip.write_bytes(data)
    refused(str(ml100k_zip), r"u\.\w+ in .* is encrypted: use an unencrypted copy")


def test_a_damaged_member_is_refused(ml100k_zip):
    with zipfile.ZipFile(ml100k_zip) as archive:
        member = archive.getinfo("ml-100k/u.data")
    data = bytearray(ml100k_zip.read_bytes())
    start = member.header_offset + 30 + len(member.filename)  # no extra field written
    data[start + 10 : start + 40] = bytes(30)  # zeros in the middle of the deflate stream
    ml100k_zip.write_bytes(data)
    refused(str(ml100k_zip), r"u\.data in .* cannot be unpacked .*use a clean copy")


def test_a_file_in_a_folder_over_the_limit_is_refused(ml100k_dir, monkeypatch):
    monkeypatch.setattr(ml100k, "MAX_FILE_BYTES", 1000)
    refused(str(ml100k_dir), r"u\.\w+ holds [\d,]+ bytes, over the 1,000")
