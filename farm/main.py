"""The ASGI application for servers: `uvicorn --factory farm.main:app`."""

from starlette.applications import Starlette

from farm.app import create_app
from farm.settings import load_settings


def app() -> Starlette:
    return create_app(load_settings())
