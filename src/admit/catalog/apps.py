from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "admit.catalog"
    label = "catalog"
    verbose_name = _("Catalog")

    def ready(self) -> None:
        from admit.core.signals import bump_on_change
        from admit.core.versions import CATALOG

        from . import models as m

        bump_on_change(
            CATALOG,
            m.Site,
            m.CalendarDay,
            m.Zone,
            m.Gate,
            m.Lane,
            m.VisitorCategory,
            m.Channel,
            m.Product,
            m.ComboComponent,
            m.Price,
            m.Product.zones.through,
            m.Product.channels.through,
            m.Lane.admits_products.through,
            m.Lane.admits_categories.through,
        )
