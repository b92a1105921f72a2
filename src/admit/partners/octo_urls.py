"""``/octo/``: the OCTO supplier API (see ``octo.py``). Paths with and without a final slash."""

from django.urls import re_path

from . import octo

app_name = "octo"

urlpatterns = [
    re_path(r"^supplier/?$", octo.supplier, name="supplier"),
    re_path(r"^capabilities/?$", octo.capabilities, name="capabilities"),
    re_path(r"^products/?$", octo.products, name="products"),
    re_path(r"^products/(?P<product_id>[^/]+)/?$", octo.product_detail, name="product"),
    re_path(r"^availability/?$", octo.availability_check, name="availability"),
    re_path(r"^availability/calendar/?$", octo.availability_calendar, name="calendar"),
    re_path(r"^bookings/?$", octo.bookings, name="bookings"),
    re_path(r"^bookings/(?P<reference>[^/]+)/?$", octo.booking_detail, name="booking"),
    re_path(
        r"^bookings/(?P<reference>[^/]+)/confirm/?$", octo.booking_confirm_view, name="confirm"
    ),
    re_path(r"^bookings/(?P<reference>[^/]+)/cancel/?$", octo.booking_cancel_view, name="cancel"),
    re_path(r"^bookings/(?P<reference>[^/]+)/extend/?$", octo.booking_extend_view, name="extend"),
    re_path(r"^webhooks/?$", octo.webhooks, name="webhooks"),
    re_path(r"^webhooks/(?P<webhook_id>[^/]+)/?$", octo.webhook_detail, name="webhook"),
]
