from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BoxOfficeConfig(AppConfig):
    name = "admit.boxoffice"
    label = "boxoffice"
    verbose_name = _("Box office")

    def ready(self) -> None:
        from admit.core.signals import bump_on_change
        from admit.core.versions import SHIFTS
        from admit.sales import window

        from .models import Shift
        from .selectors import shift_for_window_money

        bump_on_change(SHIFTS, Shift)

        # Cash and card money taken or paid back by a cashier belongs to their open shift.
        window.register(shift_for_window_money)
