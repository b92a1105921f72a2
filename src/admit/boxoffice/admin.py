"""The box office in the back office. Each part keeps its admin classes in its own module."""

from . import admin_shifts  # noqa: F401
