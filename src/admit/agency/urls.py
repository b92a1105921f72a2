"""The agency portal under /agency/: a B2B account's users book for groups and pay from the
account's prepaid balance or credit."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views

app_name = "agency"

urlpatterns: list[URLPattern] = [
    path("", views.dashboard, name="home"),
    path("login", views.AgencyLoginView.as_view(), name="login"),
    path("logout", views.logout_, name="logout"),
    path("book", views.book, name="book"),
    path("orders/<str:code>", views.order, name="order"),
    path("orders/<str:code>/tickets.pdf", views.tickets_pdf, name="tickets_pdf"),
    path("orders/<str:code>/refund", views.refund, name="refund"),
    path("orders/<str:code>/pay", views.pay, name="pay"),
    path("orders/<str:code>/cancel", views.cancel, name="cancel"),
]
