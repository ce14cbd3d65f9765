"""The ASGI application for servers: `uvicorn --factory farm.main:app`."""

import gc

from starlette.applications import Starlette

from farm.app import create_app
from farm.settings import load_settings


def app() -> Starlette:
    application = create_app(load_settings())
    # Modules, templates and routes live as long as the process: the collector's full passes
    # need not walk them again under load.
    gc.freeze()
    return application
