"""The cashier's pages under /boxoffice/: point of sale, shifts and handover reports."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_handover, views_pos, views_printing

app_name = "boxoffice"

urlpatterns: list[URLPattern] = [
    path("", views_pos.pos, name="pos"),
    path("open", views_pos.open_, name="pos_open"),
    path("pos/day", views_pos.day, name="pos_day"),
    path("pos/quote", views_pos.quote, name="pos_quote"),
    path("pos/checkout", views_pos.checkout, name="pos_checkout"),
    path("pos/recent", views_pos.recent, name="pos_recent"),
    path("pos/member", views_pos.member, name="pos_member"),
    path("pos/orders/<str:code>", views_pos.order, name="pos_order"),
    path("pos/orders/<str:code>/pay", views_pos.pay, name="pos_pay"),
    path("pos/orders/<str:code>/cancel", views_pos.cancel, name="pos_cancel"),
    path("pos/orders/<str:code>/refund", views_pos.refund, name="pos_refund"),
    path("pos/orders/<str:code>/void", views_pos.void, name="pos_void"),
    path("pos/orders/<str:code>/print", views_pos.print_, name="pos_print"),
    path("pos/orders/<str:code>/tickets/<int:ticket>/bind", views_pos.bind, name="pos_bind"),
    path("tickets/<int:pk>/preview.pdf", views_printing.ticket_preview, name="ticket_preview"),
    path("shifts/<int:pk>/close", views_handover.close, name="close"),
    path("shifts/<int:pk>/handover", views_handover.handover, name="handover"),
    path("shifts/<int:pk>/handover.pdf", views_handover.handover_pdf, name="handover_pdf"),
]
