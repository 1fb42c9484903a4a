"""Read MovieLens 100K from a URL (downloaded once into ML100K_CACHE_DIR), a zip or a
folder: the text of its files, for coldstart.ml100k to parse.
"""

import hashlib
import http.client
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from django.conf import settings

from coldstart.ml100k import LoadError
from movies.urlfetch import Deadline, RedirectRefused, open_url

logger = logging.getLogger(__name__)

OFFICIAL_URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
OFFICIAL_SHA256 = "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229"
FILES = ("u.genre", "u.item", "u.user", "u.data")
DOWNLOAD_TIMEOUT = 30  # seconds without a byte
DOWNLOAD_DEADLINE = 300  # seconds for the whole download: connecting, headers and body
# Bounds against a hostile or broken source: ml-100k is a 5 MB zip whose largest file,
# u.data, unpacks to 2 MB.
MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024
MAX_FILE_BYTES = 50 * 1024 * 1024


class DataSourceError(LoadError):
    """The source is missing, unreachable, not ml-100k, or fails its checksum."""


# --- Reading the source ----------------------------------------------------------------


def read_source(source: str, sha256: str) -> dict[str, str]:
    """Return the text of each needed file, whatever kind of source holds them."""
    if urllib.parse.urlsplit(source).scheme in ("http", "https"):
        return _read_zip(_download(source, sha256))
    path = Path(source).expanduser()
    if path.is_dir():
        missing = [name for name in FILES if not (path / name).is_file()]
        if missing:
            raise DataSourceError(f"{path} is not an ml-100k folder: it has no {missing[0]}.")
        for name in FILES:
            _check_size(f"{path / name}", (path / name).stat().st_size)
        return {name: (path / name).read_bytes().decode("latin-1") for name in FILES}
    if path.is_file():
        return _read_zip(path)
    raise DataSourceError(f"{source} does not exist: give a URL, an ml-100k zip or a folder.")


def _check_size(what: str, size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise DataSourceError(
            f"{what} holds {size:,} bytes, over the {MAX_FILE_BYTES:,} that any ml-100k "
            "file could: refused, use a clean copy of ml-100k."
        )


def _read_zip(path: Path) -> dict[str, str]:
    """Read the files from the archive, at its root or in one folder such as `ml-100k/`."""
    try:
        with zipfile.ZipFile(path) as archive:
            by_name: dict[str, zipfile.ZipInfo] = {}
            for member in sorted(archive.infolist(), key=lambda m: m.filename.count("/")):
                by_name.setdefault(PurePosixPath(member.filename).name, member)
            missing = [name for name in FILES if name not in by_name]
            if missing:
                raise DataSourceError(f"{path} is not an ml-100k zip: it has no {missing[0]}.")
            return {name: _read_member(archive, by_name[name], path) for name in FILES}
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise DataSourceError(f"{path} is not a readable zip file ({error}).") from error


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, path: Path) -> str:
    """One file of the archive, never unpacking more than MAX_FILE_BYTES."""
    what = f"{member.filename} in {path}"
    _check_size(what, member.file_size)  # zipfile stops at this size, whatever the data
    if member.flag_bits & 0x1:
        raise DataSourceError(f"{what} is encrypted: use an unencrypted copy of ml-100k.")
    try:
        with archive.open(member) as file:
            return file.read(MAX_FILE_BYTES).decode("latin-1")
    # What a damaged member raises: a bad CRC, bad deflate data, a method zipfile lacks.
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError) as error:
        raise DataSourceError(
            f"{what} cannot be unpacked ({error}): use a clean copy of ml-100k."
        ) from error


def _download(url: str, sha256: str) -> Path:
    """Download `url` once into the cache folder; verify it (again) before every use.

    The download goes to an unnamed temporary file, and into the cache only once its
    checksum matches: however it stops (an error, Ctrl-C, even a kill, which runs no
    clean-up), the cache never holds a partial or wrong archive.
    """
    cache_dir = Path(settings.ML100K_CACHE_DIR)
    target = cache_dir / (PurePosixPath(urllib.parse.urlsplit(url).path).name or "ml-100k.zip")
    try:
        if target.is_file():
            if _sha256_of(target) == sha256.lower():
                return target
            logger.warning("Cached %s does not match its SHA-256; downloading it again.", target)
            target.unlink()
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=cache_dir) as spool:
            digest = _fetch(url, spool)  # its own errors are DataSourceErrors already
            if digest != sha256.lower():
                raise DataSourceError(
                    f"The download from {url} has SHA-256 {digest}, expected {sha256}: "
                    "refused and not kept. Check the URL, or pass --sha256 if the file is "
                    "known good."
                )
            spool.seek(0)
            _keep(spool, target)
    except OSError as error:
        raise DataSourceError(
            f"The download cache {cache_dir} cannot be used ({error.strerror or error}): "
            "set ML100K_CACHE_DIR to a folder this user can write."
        ) from error
    return target


def _keep(spool, target: Path) -> None:
    """Copy the verified download to `target`, under a temporary name until it is whole."""
    fd, part = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(spool, out)
        os.replace(part, target)
    except BaseException:
        Path(part).unlink(missing_ok=True)
        raise


def _fetch(url: str, out) -> str:
    """Copy `url` into `out` within MAX_DOWNLOAD_BYTES and DOWNLOAD_DEADLINE; return its
    SHA-256. Every failure is a DataSourceError of one sentence."""
    # One deadline from connecting to the last byte: a server sending its headers slowly
    # cannot stretch it (see movies.urlfetch).
    deadline = Deadline(DOWNLOAD_DEADLINE, idle=DOWNLOAD_TIMEOUT)
    digest, size = hashlib.sha256(), 0
    try:
        with open_url(url, deadline) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit():
                _check_download_size(url, int(declared))
            while chunk := response.read1(1 << 16):
                size += len(chunk)
                _check_download_size(url, size)
                digest.update(chunk)
                out.write(chunk)
            if response.length:  # the server closed before the length it announced
                raise http.client.IncompleteRead(b"", response.length)
    except RedirectRefused as error:
        raise DataSourceError(
            f"{url} redirects to {error.target}, which is not http or https: refused. "
            "Check the URL, or pass --source DIR|ZIP with a local copy of ml-100k."
        ) from error
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        if deadline.passed():  # whatever broke, running out of time is the reason
            raise DataSourceError(
                f"Downloading {url} took over {DOWNLOAD_DEADLINE} seconds: stopped. "
                "Pass --source DIR|ZIP with a local copy of ml-100k instead."
            ) from error
        raise DataSourceError(
            f"Could not download {url} ({_reason(error)}). Check the URL or, without "
            "internet, pass --source DIR|ZIP with a local copy of ml-100k, or set "
            "ML100K_SOURCE."
        ) from error
    return digest.hexdigest()


def _check_download_size(url: str, size: int) -> None:
    if size > MAX_DOWNLOAD_BYTES:
        raise DataSourceError(
            f"The download from {url} is over {MAX_DOWNLOAD_BYTES:,} bytes, far more than "
            "ml-100k: stopped and not kept."
        )


def _reason(error: Exception) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, http.client.IncompleteRead):
        return "the connection closed before the whole file came"
    return str(getattr(error, "reason", error))


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
