"""JSON in and out with orjson: the same documents as DRF's own parser and renderer, faster."""

import codecs
import contextlib
import io
import re

import orjson
from django.utils.encoding import force_str
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.renderers import BaseRenderer


class FastJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data, default=force_str, option=orjson.OPT_SERIALIZE_NUMPY)


# orjson reads an integer beyond 64 bits as a float; such bodies go to DRF's parser.
LONG_NUMBER = re.compile(rb"[0-9]{19}")


class FastJSONParser(JSONParser):
    """orjson for UTF-8 bodies it reads exactly; DRF's parser for the rest (other charsets,
    integers beyond 64 bits, lone surrogates, errors), so that the same bodies give the same
    data. Nesting too deep for Python's parser is a 400, not a RecursionError."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read()
        encoding = get_encoding(parser_context or {})
        if codecs.lookup(encoding).name == "utf-8" and not LONG_NUMBER.search(raw):
            with contextlib.suppress(orjson.JSONDecodeError):
                return orjson.loads(raw)
        try:
            return super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply") from None
