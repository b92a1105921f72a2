from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, **kwargs):  # type: ignore[no-untyped-def]
    from .services import roles_sync

    roles_sync()


class AccountsConfig(AppConfig):
    name = "admit.accounts"
    label = "accounts"
    verbose_name = _("Staff and devices")

    def ready(self) -> None:
        from django.contrib.auth.models import Group

        from admit.core.signals import bump_on_change
        from admit.core.versions import RIGHTS, TOKENS

        from .models import ApiToken, Device, User

        post_migrate.connect(_sync_roles, dispatch_uid="admit.accounts.roles")
        bump_on_change(
            RIGHTS,
            User,
            Group,
            User.groups.through,
            User.user_permissions.through,
            Group.permissions.through,
        )
        # Cached bearer tokens (``token_authenticate``) are dropped when a token, a device, a
        # staff user or their rights change: revocation, deactivation and a changed role work
        # from the next request on (the cached user must not keep its permission caches).
        bump_on_change(
            TOKENS,
            ApiToken,
            Device,
            User,
            Group,
            User.groups.through,
            User.user_permissions.through,
            Group.permissions.through,
        )
