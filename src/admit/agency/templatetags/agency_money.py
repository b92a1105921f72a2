from __future__ import annotations

from decimal import Decimal

from django import template

from admit.core.money import to_money

register = template.Library()


@register.filter
def yuan(value: Decimal | str | int) -> str:
    """An amount as the portal shows it: ``¥1036.80``, ``−¥115.20``."""
    amount = to_money(value)
    return f"{'−' if amount < 0 else ''}¥{abs(amount):.2f}"
