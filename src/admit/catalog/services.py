"""Writes to the catalog. Every save validates the whole row and is audited."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext as _

from admit.core.errors import ValidationFailed
from admit.core.services import model_delete, model_save

from .models import (
    CalendarDay,
    Channel,
    ComboComponent,
    Gate,
    Lane,
    Price,
    Product,
    Site,
    VisitorCategory,
    Zone,
)

M2M = Mapping[str, Iterable[Any]] | None


def site_save(*, instance: Site, actor: Any, m2m: M2M = None) -> Site:
    return model_save(instance=instance, actor=actor, m2m=m2m)


def calendar_day_save(*, instance: CalendarDay, actor: Any, m2m: M2M = None) -> CalendarDay:
    return model_save(instance=instance, actor=actor, m2m=m2m)


@transaction.atomic
def zone_save(*, instance: Zone, actor: Any, m2m: M2M = None) -> Zone:
    # Zones of one site are re-parented one at a time, so that two concurrent moves cannot
    # together make a cycle that neither alone makes.
    Site.objects.select_for_update().filter(pk=instance.site_id).first()
    return model_save(instance=instance, actor=actor, m2m=m2m)


def gate_save(*, instance: Gate, actor: Any, m2m: M2M = None) -> Gate:
    return model_save(instance=instance, actor=actor, m2m=m2m)


def lane_save(*, instance: Lane, actor: Any, m2m: M2M = None) -> Lane:
    if m2m and "admits_products" in m2m:
        site_id = instance.gate.site_id
        if any(getattr(p, "site_id", site_id) != site_id for p in m2m["admits_products"]):
            raise ValidationFailed(_("A lane can only admit products of its own site."))
    return model_save(instance=instance, actor=actor, m2m=m2m)


def visitor_category_save(
    *, instance: VisitorCategory, actor: Any, m2m: M2M = None
) -> VisitorCategory:
    return model_save(instance=instance, actor=actor, m2m=m2m)


def channel_save(*, instance: Channel, actor: Any, m2m: M2M = None) -> Channel:
    return model_save(instance=instance, actor=actor, m2m=m2m)


def product_save(*, instance: Product, actor: Any, m2m: M2M = None) -> Product:
    if m2m and "zones" in m2m:
        zones = list(m2m["zones"])
        foreign = [z for z in zones if getattr(z, "site_id", instance.site_id) != instance.site_id]
        if foreign:
            raise ValidationFailed(_("A product can only admit to zones of its own site."))
    return model_save(instance=instance, actor=actor, m2m=m2m)


def combo_component_save(
    *, instance: ComboComponent, actor: Any, m2m: M2M = None
) -> ComboComponent:
    return model_save(instance=instance, actor=actor, m2m=m2m)


@transaction.atomic
def price_save(*, instance: Price, actor: Any, m2m: M2M = None) -> Price:
    # Lock the product so that two prices saved at once cannot both pass the overlap check.
    Product.objects.select_for_update().filter(pk=instance.product_id).first()
    return model_save(instance=instance, actor=actor, m2m=m2m)


def catalog_delete(*, instance: models.Model, actor: Any) -> None:
    model_delete(instance=instance, actor=actor)


SAVE_SERVICES: dict[type[models.Model], Callable[..., Any]] = {
    Site: site_save,
    CalendarDay: calendar_day_save,
    Zone: zone_save,
    Gate: gate_save,
    Lane: lane_save,
    VisitorCategory: visitor_category_save,
    Channel: channel_save,
    Product: product_save,
    ComboComponent: combo_component_save,
    Price: price_save,
}
