"""Staff roles and the permissions each one grants. Groups named by the role code hold them."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Role:
    code: str
    label: Promise
    # "app_label.codename" or "app_label.*" (every permission of that app) or
    # "view:*" (every view permission); "!app_label.codename" takes one away again.
    permissions: tuple[str, ...]


CATALOG_MODELS = (
    "site",
    "calendarday",
    "zone",
    "gate",
    "lane",
    "visitorcategory",
    "channel",
    "product",
    "combocomponent",
    "price",
)


def _perms(app: str, models: tuple[str, ...], actions: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{app}.{a}_{m}" for m in models for a in actions)


ALL = ("add", "change", "delete", "view")

ROLES: dict[str, Role] = {
    r.code: r
    for r in (
        Role(
            "supervisor",
            _("Supervisor"),
            (
                "catalog.*",
                "accounts.*",
                "inventory.*",
                "sales.*",
                "tickets.*",
                "access.*",
                "customers.*",
                "shop.*",
                "boxoffice.*",
                "partners.*",
                "reports.*",
                # Supervisors correct and approve; money they take is not a cashier's shift's.
                "!boxoffice.sell_at_window",
                "auth.view_group",
                "core.view_auditentry",
                "core.view_sandboxsms",
            ),
        ),
        Role(
            "cashier",
            _("Cashier"),
            (
                *_perms("catalog", CATALOG_MODELS, ("view",)),
                "inventory.view_pool",
                "sales.add_order",
                "sales.view_order",
                "sales.refund_order",
                "sales.reschedule_order",
                "tickets.view_ticket",
                "tickets.add_ticketmedium",
                "tickets.view_ticketmedium",
                "tickets.delete_ticketmedium",
                "boxoffice.sell_at_window",
                "boxoffice.add_shift",
                "boxoffice.view_shift",
                "boxoffice.view_terminal",
                "boxoffice.view_discountpreset",
                "boxoffice.void_sale",
                "boxoffice.reprint_ticket",
                "boxoffice.view_stockserial",
                "customers.view_member",
                "customers.add_member",
                "customers.view_pass",
                "customers.add_pass",
                "customers.change_pass",
                "customers.view_guide",
                "customers.view_account",
            ),
        ),
        Role(
            "finance",
            _("Finance"),
            (
                *_perms("catalog", CATALOG_MODELS, ("view",)),
                "core.view_auditentry",
                "sales.view_order",
                "sales.view_payment",
                "sales.view_refund",
                "tickets.view_ticket",
                "inventory.view_pool",
                "boxoffice.view_shift",
                "boxoffice.confirm_shift",
                "boxoffice.view_shiftaction",
                "boxoffice.view_ticketprint",
                "boxoffice.view_stockbatch",
                "boxoffice.view_stockserial",
                "boxoffice.view_stockmovement",
                "boxoffice.view_terminal",
                "customers.view_account",
                "customers.view_accountmember",
                "customers.view_contract",
                "customers.view_contractproduct",
                "customers.view_ledgerentry",
                "customers.record_topup",
                "customers.view_statement",
                "customers.add_statement",
                "customers.change_statement",
                "customers.view_guide",
                "customers.view_guidecredit",
                "customers.view_rebatestatement",
                "customers.add_rebatestatement",
                "customers.change_rebatestatement",
                "customers.view_rebatepayment",
                "customers.view_member",
                "customers.view_pointsentry",
                "partners.view_partnerbooking",
                "reports.view_reports",
                "reports.close_day",
                "reports.view_dayclose",
            ),
        ),
        Role(
            "marketing",
            _("Marketing"),
            (
                *_perms("catalog", CATALOG_MODELS, ("view",)),
                *_perms("catalog", ("channel", "price"), ALL),
                *_perms("sales", ("coupon",), ALL),
                *_perms(
                    "customers",
                    ("account", "accountmember", "contract", "contractproduct", "guide"),
                    ALL,
                ),
                *_perms("customers", ("guiderule", "memberlevel", "member"), ALL),
                "customers.view_ledgerentry",
                "customers.view_statement",
                *_perms("shop", ("notice", "rushday", "shopsettings"), ALL),
                *_perms("customers", ("account", "accountmember"), ALL),
                *_perms("partners", ("partner",), ALL),
                "partners.view_partnerbooking",
                "partners.view_partnerwebhook",
                "partners.delete_partnerwebhook",
                "partners.view_outboxmessage",
                "partners.retry_outboxmessage",
                "sales.view_order",
                "inventory.view_pool",
                "inventory.view_capacitytemplate",
                "reports.view_reports",
            ),
        ),
        Role(
            "gate_operator",
            _("Gate operator"),
            (
                *_perms("catalog", ("site", "zone", "gate", "lane", "product"), ("view",)),
                "access.add_scan",
                "access.view_scan",
                "access.view_lanestatus",
                "access.set_lane_mode",
                "access.view_conflict",
                "access.resolve_conflict",
                "tickets.view_ticket",
            ),
        ),
        Role(
            "agent",
            _("Agency booker"),
            (
                *_perms("catalog", ("site", "product", "channel"), ("view",)),
                "inventory.view_pool",
                "sales.add_order",
                "sales.view_order",
                "sales.refund_order",
                "customers.add_guide",
                "customers.view_guide",
            ),
        ),
        Role("auditor", _("Auditor"), ("view:*",)),
    )
}
