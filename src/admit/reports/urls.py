from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("close-day", views.close_day, name="close_day"),
    path("<slug:code>/", views.report, name="report"),
    path("<slug:code>.csv", views.report, {"fmt": "csv"}, name="report_csv"),
    path("<slug:code>.xlsx", views.report, {"fmt": "xlsx"}, name="report_xlsx"),
]
