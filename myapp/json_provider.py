"""JSON responses encoded by orjson: most of a list request's Python time was JSON encoding."""
from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider


class OrjsonProvider(DefaultJSONProvider):
    """Flask's provider with orjson writing responses (request bodies are still read by
    the standard parser, which answers malformed input the way the API documents)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, default=self.default).decode()

    def response(self, *args: Any, **kwargs: Any):
        return self._app.response_class(orjson.dumps(self._prepare_response_obj(args, kwargs),
                                                     default=self.default), mimetype=self.mimetype)
