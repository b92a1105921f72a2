"""The self-service kiosk's pages under /kiosk/."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_kiosk as views

app_name = "kiosk"

urlpatterns: list[URLPattern] = [
    path("", views.screen, name="screen"),
    path("pair", views.pair, name="pair"),
    path("api/days", views.days, name="days"),
    path("api/offer", views.offer, name="offer"),
    path("api/orders", views.order_create, name="order_create"),
    path("api/orders/status", views.order_status, name="order_status"),
    path("api/orders/cancel", views.order_cancel, name="order_cancel"),
    path("api/orders/print", views.order_print, name="order_print"),
    path("api/pickup", views.pickup_lookup, name="pickup_lookup"),
    path("api/pickup/print", views.pickup_print, name="pickup_print"),
]
