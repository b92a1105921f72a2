"""The self-service kiosk's pages under /kiosk/."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "kiosk"

urlpatterns: list[URLPattern] = []
