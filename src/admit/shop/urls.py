"""The online shop's pages under /shop/."""

from __future__ import annotations

from django.urls import URLPattern, path

from . import views, views_members

app_name = "shop"

urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("lookup", views.lookup, name="lookup"),
    path("orders/<str:code>/", views.order, name="order"),
    path("orders/<str:code>/pay", views.order_pay, name="order_pay"),
    path("orders/<str:code>/cancel", views.order_cancel, name="order_cancel"),
    path("orders/<str:code>/refund", views.order_refund, name="order_refund"),
    path("orders/<str:code>/reschedule", views.order_reschedule, name="order_reschedule"),
    path("orders/<str:code>/tickets", views.order_tickets, name="order_tickets"),
    path("account/", views_members.account, name="account"),
    path("account/sign-in", views_members.sign_in, name="sign_in"),
    path("account/code", views_members.sign_in_code, name="sign_in_code"),
    path("account/sign-out", views_members.sign_out, name="sign_out"),
    path("account/orders/<str:code>/", views_members.account_order, name="account_order"),
    path("<slug:site>/", views.site_home, name="site"),
    path("<slug:site>/queue", views.queue, name="queue"),
    path("<slug:site>/<str:date>/", views.day, name="day"),
    path("<slug:site>/<str:date>/details", views.details, name="details"),
    path("<slug:site>/<str:date>/place", views.place, name="place"),
]
