from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    name = "admit.partners"
    label = "partners"
    verbose_name = _("Partners")

    def ready(self) -> None:
        from admit.core import hooks
        from admit.core.signals import bump_on_change

        from . import models as m
        from .services import notices

        # Which channels belong to partners is cached: a gate's scan asks it.
        bump_on_change(m.PARTNERS_VERSION, m.Partner)
        hooks.subscribe(hooks.TICKET_USED, notices.on_ticket_used)
        hooks.subscribe(hooks.ORDER_REFUNDED, notices.on_order_refunded)
        hooks.subscribe(hooks.ORDER_CHANGED, notices.on_order_changed)
