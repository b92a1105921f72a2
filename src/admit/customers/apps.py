from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "admit.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from admit.core.signals import bump_on_change
        from admit.core.versions import RIGHTS

        from . import models as m

        # Who belongs to which account decides what they may see: cached with the rights.
        bump_on_change(RIGHTS, m.Account, m.AccountMember)
