"""JSON request parsing: orjson where it reads a body exactly as DRF's parser would, DRF's
parser for the rest, minus the two inputs that got through it to a 500.

The standard library's decoder raises RecursionError, not ValueError, on a few kilobytes of
``[``; and it accepts escaped lone surrogates (``"\\ud800"``), which are not Unicode text,
so no UTF-8 renderer can echo them back in an "unknown key" error. Both are malformed
bodies: 400.
"""

import codecs
import contextlib
import io
import re

import orjson
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# orjson reads an integer beyond 64 bits as a float; such bodies go to DRF's parser.
LONG_NUMBER = re.compile(rb"[0-9]{19}")


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read()
        encoding = parsers.get_encoding(parser_context or {})
        if codecs.lookup(encoding).name == "utf-8" and not LONG_NUMBER.search(raw):
            with contextlib.suppress(orjson.JSONDecodeError):  # lone surrogates included
                return orjson.loads(raw)
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the body is nested too deeply") from exc
        if not is_unicode_text(data):
            raise ParseError("JSON parse error - a string holds a lone surrogate (\\ud800-\\udfff)")
        return data


def is_unicode_text(data) -> bool:
    """False if any string or key in parsed JSON holds a lone surrogate; no recursion, as
    the data may be nested as deep as the decoder allows."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode()
                except UnicodeEncodeError:
                    return False
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True
