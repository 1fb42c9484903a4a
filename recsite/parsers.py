"""JSON request parsing with orjson: strict RFC 8259, so that any malformed body is a 400.

The standard library's parser, which DRF uses, lets two kinds of input through to a 500:
nesting deep enough to raise RecursionError (a few kilobytes of ``[``), and escaped lone
surrogates (``"\\ud800"``) that no UTF-8 renderer can echo back in an error message.
orjson refuses both, as well as NaN, Infinity and invalid UTF-8, with a ValueError.
"""

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


class JSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return orjson.loads(stream.read())
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
