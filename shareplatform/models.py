"""Every model, so that the metadata is complete (migrations, tests): the `models` module of each
package, found rather than listed."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

from . import db
from .db import Base


def load_all() -> None:
    package = importlib.import_module("shareplatform")
    for info in pkgutil.iter_modules(package.__path__):
        if info.ispkg and importlib.util.find_spec(f"shareplatform.{info.name}.models"):
            importlib.import_module(f"shareplatform.{info.name}.models")


load_all()

__all__ = ["Base", "db"]
