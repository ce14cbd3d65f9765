import importlib
import inspect

from tortoise.models import Model

from farm.db import MODEL_MODULES


def test_no_model_docstring_has_a_semicolon_which_tortoise_migrations_split_sql_on():
    for name in MODEL_MODULES:
        for _, cls in inspect.getmembers(importlib.import_module(name), inspect.isclass):
            if issubclass(cls, Model) and cls is not Model:
                assert ";" not in (cls.__doc__ or ""), cls.__name__
