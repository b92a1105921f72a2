from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "admit.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from . import facts

        facts.connect()
