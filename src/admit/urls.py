from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext as _
from django.views.i18n import set_language

from .api import api
from .core import views as core_views
from .partners import ota as partners_ota
from .reports import dashboard as reports_dashboard
from .sales import views as sales_views


def api_not_found(request: HttpRequest, rest: str) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": "not_found", "message": _("No such API endpoint."), "details": {}}},
        status=404,
    )


urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("i18n/setlang/", set_language, name="set_language"),
    path(
        "admin/sales/order/<str:code>/tickets.pdf",
        sales_views.order_tickets_pdf,
        name="order_tickets_pdf",
    ),
    path("admin/", admin.site.urls),
    path("dashboard/", reports_dashboard.dashboard, name="dashboard"),
    path("dashboard/data", reports_dashboard.dashboard_data, name="dashboard_data"),
    path("boxoffice/", include("admit.boxoffice.urls")),
    path("kiosk/", include("admit.boxoffice.kiosk_urls")),
    path("agency/", include("admit.agency.urls")),
    path("shop/", include("admit.shop.urls")),
    path("reports/", include("admit.reports.urls")),
    path("sandbox-pay/<str:ref>", sales_views.sandbox_pay, name="sandbox_pay"),
    path("api/v1/", api.urls),
    path("octo/", include("admit.partners.octo_urls")),
    path("ota/<slug:connector>/<slug:service>", partners_ota.ota_call, name="ota_call"),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
]
