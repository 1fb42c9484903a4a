"""JSON out with orjson: the same documents as DRF's own renderer, faster."""

import orjson
from django.utils.encoding import force_str
from rest_framework.renderers import BaseRenderer


class FastJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data, default=force_str, option=orjson.OPT_SERIALIZE_NUMPY)
