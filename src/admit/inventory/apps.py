from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "admit.inventory"
    label = "inventory"
    verbose_name = _("Capacity")

    def ready(self) -> None:
        from admit.core.signals import bump_on_change
        from admit.core.versions import CATALOG

        from . import models as m

        bump_on_change(CATALOG, m.CapacityTemplate, m.TemplateSlot, m.TemplateAllocation)
