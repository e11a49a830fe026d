"""The engine's HTTP API: REST endpoints, a WebSocket event stream and its OpenAPI description.

`create_app(engine, token)` builds the aiohttp application; `ApiServer` runs it on its own
thread and loop beside the engine (`facegate run`).
"""

from facegate.web.app import create_app
from facegate.web.auth import TOKEN_NAME, load_or_create_token
from facegate.web.server import ApiServer

__all__ = ["TOKEN_NAME", "ApiServer", "create_app", "load_or_create_token"]
