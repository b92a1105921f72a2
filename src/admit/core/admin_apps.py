from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin with Admit's own site (title, login form with account locks)."""

    default_site = "admit.core.admin_site.AdmitAdminSite"
