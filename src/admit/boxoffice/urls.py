"""The cashier's pages under /boxoffice/: point of sale, shifts and handover reports."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views_handover

app_name = "boxoffice"

urlpatterns: list[URLPattern] = [
    path("shifts/<int:pk>/close", views_handover.close, name="close"),
    path("shifts/<int:pk>/handover", views_handover.handover, name="handover"),
    path("shifts/<int:pk>/handover.pdf", views_handover.handover_pdf, name="handover_pdf"),
]
