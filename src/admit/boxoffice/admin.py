"""The box office in the back office. Each part keeps its admin classes in its own module."""

from . import (
    admin_shifts,  # noqa: F401
    admin_stock,  # noqa: F401  (paper ticket stock and its reconciliation)
    admin_templates,  # noqa: F401  (ticket templates and their designer)
)
