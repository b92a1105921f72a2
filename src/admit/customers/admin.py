"""Customers in the back office. Each part keeps its admin classes in its own module."""

from . import (
    admin_accounts,  # noqa: F401  (B2B accounts, contracts, the ledger, statements)
    admin_guides,  # noqa: F401  (guides and drivers, their rules, credits and rebates)
    admin_members,  # noqa: F401  (member levels, members, points, passes)
)
