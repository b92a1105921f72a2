"""A realistic demo venue: 云岭山风景区, a mountain park with a garden, a cable car and a show.

Everything is created through the services, so the demo's audit trail looks like a real set-up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import transaction

from admit.accounts.models import Device, User
from admit.accounts.services import device_save, user_create
from admit.catalog import services as cs
from admit.catalog.models import (
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
from admit.core.services import model_save
from admit.customers.models import Account, AccountMember
from admit.customers.services import account_member_save, account_save
from admit.inventory.models import CapacityTemplate, TemplateAllocation, TemplateSlot
from admit.inventory.services import template_save
from admit.partners.models import Partner
from admit.partners.services import partner_save
from admit.partners.services.partners import key_hash

SITE_CODE = "yunling"
DEMO_PASSWORD = "demo1234"
STAFF = [
    ("supervisor", "王主管", ["supervisor"]),
    ("cashier", "李售票", ["cashier"]),
    ("cashier2", "黄售票", ["cashier"]),
    ("finance", "赵财务", ["finance"]),
    ("marketing", "陈营销", ["marketing"]),
    ("gate", "刘检票", ["gate_operator"]),
    ("auditor", "周审计", ["auditor"]),
    ("agent", "孙导游 (阳光旅行社)", ["agent"]),
]

DISCOUNT_LIMITS = {"cashier": "10", "cashier2": "10", "supervisor": "50"}
SUPERVISOR_PIN = "2468"  # approves discounts beyond a cashier's limit at the window

# Public holidays and peak days shown in the demo calendar (illustrative dates).
HOLIDAYS = {
    "2026-12-31": ("peak", "跨年夜 New Year's Eve"),
    "2027-01-01": ("holiday", "元旦 New Year"),
    "2027-01-02": ("holiday", "元旦 New Year"),
    "2027-01-03": ("holiday", "元旦 New Year"),
    **{f"2027-02-{d:02d}": ("peak", "春节 Spring Festival") for d in range(5, 12)},
    "2027-04-05": ("holiday", "清明节 Qingming"),
    **{f"2027-05-{d:02d}": ("peak", "劳动节 Labour Day") for d in range(1, 6)},
    "2027-06-09": ("holiday", "端午节 Dragon Boat Festival"),
    "2027-09-15": ("holiday", "中秋节 Mid-Autumn Festival"),
    **{f"2027-10-{d:02d}": ("peak", "国庆节 National Day") for d in range(1, 8)},
}


def demo_loaded() -> bool:
    return Site.objects.filter(code=SITE_CODE).exists()


@transaction.atomic
def demo_load(*, log: Callable[[str], None] = lambda _m: None) -> bool:
    """Create the demo venue and staff. Returns False (and changes nothing) when already there."""
    if demo_loaded():
        return False
    actor = None  # the system sets up the demo
    today = dt.date.today()
    start = today.replace(month=1, day=1)

    log("staff users")
    if not User.objects.filter(username="admin").exists():
        user_create(
            username="admin",
            password="admin",
            actor=actor,
            display_name="管理员",
            is_superuser=True,
        )
    for username, display, roles in STAFF:
        user = User.objects.filter(username=username).first() or user_create(
            username=username,
            password=DEMO_PASSWORD,
            roles=roles,
            actor=actor,
            display_name=display,
        )
        limit = DISCOUNT_LIMITS.get(username)
        if limit is not None:
            user.discount_limit_percent = Decimal(limit)
            model_save(instance=user, actor=actor, validate=False)
    admin = User.objects.get(username="admin")
    log("a travel agency")
    agency = account_save(
        instance=Account(
            code="sunshine",
            name="阳光旅行社 Sunshine Travel",
            contact_phone="0871-6500000",
            credit_limit=Decimal("50000.00"),
        ),
        actor=admin,
    )
    account_member_save(
        instance=AccountMember(account=agency, user=User.objects.get(username="agent")),
        actor=admin,
    )

    def save(obj: Any, **m2m: Any) -> Any:
        return cs.SAVE_SERVICES[type(obj)](instance=obj, actor=admin, m2m=m2m or None)

    def save_row(obj: Any) -> Any:
        return model_save(instance=obj, actor=admin)

    log("channels and visitor categories")
    channels = {
        code: save(Channel(code=code, name=name, name_en=en, kind=kind))
        for code, name, en, kind in [
            ("window", "售票窗口", "Box office", "window"),
            ("kiosk", "自助售票机", "Kiosk", "kiosk"),
            ("online", "官方微商城", "Online shop", "online"),
            ("ota", "OTA 平台", "OTA partners", "ota"),
            ("agency", "旅行社", "Travel agencies", "agency"),
        ]
    }
    cats = {
        code: save(
            VisitorCategory(
                code=code,
                name=name,
                name_en=en,
                proof_required=bool(proof),
                proof=proof,
                min_age=lo,
                max_age=hi,
                sort_order=i,
            )
        )
        for i, (code, name, en, proof, lo, hi) in enumerate(
            [
                ("adult", "成人", "Adult", "", 18, 59),
                ("child", "儿童", "Child", "身高 1.2–1.5 米 / height 1.2–1.5 m", 6, 17),
                ("student", "学生", "Student", "全日制学生证 / full-time student card", None, None),
                ("senior", "老年人", "Senior", "身份证（60 岁以上）/ ID card, 60+", 60, None),
            ]
        )
    }

    log("site, calendar and zones")
    site = save(
        Site(
            code=SITE_CODE,
            name="云岭山风景区",
            name_en="Yunling Mountain Scenic Area",
            time_zone="Asia/Shanghai",
            address="云岭县山门路 1 号",
            phone="0571-8888 6666",
            opens_at=dt.time(7, 30),
            closes_at=dt.time(18, 0),
            last_entry_at=dt.time(16, 30),
            notice="索道遇大风停运，请留意现场广播。Cable car stops in high winds.",
        )
    )
    for day, (day_type, note) in HOLIDAYS.items():
        save(CalendarDay(site=site, date=dt.date.fromisoformat(day), day_type=day_type, note=note))
    maintenance = today + dt.timedelta(days=(7 - today.weekday()) % 7 + 14)  # a Monday
    save(CalendarDay(site=site, date=maintenance, closed=True, note="设备检修闭园 Maintenance"))
    main = save(Zone(site=site, code="main", name="景区主区", name_en="Main park"))
    garden = save(
        Zone(site=site, parent=main, code="orchid-garden", name="幽兰园", name_en="Orchid Garden")
    )
    cable = save(
        Zone(site=site, parent=main, code="cable-car", name="云岭索道", name_en="Cable car")
    )
    theatre = save(
        Zone(site=site, parent=main, code="theatre", name="山水剧场", name_en="Valley Theatre")
    )

    log("gates and lanes")
    east = save(Gate(site=site, code="east", name="东大门", name_en="East Gate", zone=main))
    for i, kind, direction in [
        (1, "turnstile", "in"),
        (2, "turnstile", "in"),
        (3, "turnstile", "in"),
        (4, "accessible", "both"),
        (5, "handheld", "in"),
    ]:
        save(
            Lane(
                gate=east,
                code=f"east-{i}",
                name=f"东大门 {i} 号通道",
                name_en=f"East Gate lane {i}",
                device_kind=kind,
                direction=direction,
            )
        )
    exit_gate = save(Gate(site=site, code="exit", name="南出口", name_en="South Exit", zone=main))
    for i in (1, 2):
        save(
            Lane(
                gate=exit_gate,
                code=f"exit-{i}",
                name=f"南出口 {i} 号通道",
                name_en=f"South Exit lane {i}",
                direction="out",
            )
        )
    for code, name, en, zone in [
        ("garden", "幽兰园入口", "Orchid Garden entrance", garden),
        ("cable", "索道下站", "Cable car lower station", cable),
        ("theatre", "剧场检票口", "Theatre entrance", theatre),
    ]:
        gate = save(Gate(site=site, code=code, name=name, name_en=en, zone=zone))
        save(Lane(gate=gate, code=f"{code}-1", name=f"{name} 1", name_en=f"{en} 1", direction="in"))

    log("products and prices")
    all_channels = list(channels.values())
    qr_id = ["qr", "barcode", "id_card"]

    def product(
        code: str,
        name: str,
        en: str,
        *,
        prices: dict[str | None, tuple[str, ...]],
        zones: list[Zone] | None = None,
        sold_on: list[Channel] | None = None,
        **fields: Any,
    ) -> Product:
        p = save(
            Product(
                site=site,
                code=code,
                name=name,
                name_en=en,
                allowed_media=fields.pop("allowed_media", qr_id),
                **fields,
            ),
            zones=zones if zones is not None else [main],
            channels=sold_on or all_channels,
        )
        # prices: channel code (None = any) -> (weekday, weekend, holiday) amounts
        for channel_code, amounts in prices.items():
            channel = channels[channel_code] if channel_code else None
            day_types = ("weekday", "weekend", "holiday") if len(amounts) > 1 else ("",)
            for day_type, amount in zip(day_types, amounts, strict=False):
                save(
                    Price(
                        product=p,
                        channel=channel,
                        day_type=day_type,
                        amount=Decimal(amount),
                        valid_from=start,
                    )
                )
        return p

    product(
        "adult",
        "成人票",
        "Adult ticket",
        category=cats["adult"],
        sort_order=1,
        prices={
            None: ("120", "150", "180"),
            "online": ("110", "140", "170"),
            "ota": ("105", "135", "165"),
            "agency": ("90", "110", "130"),
        },
    )
    product(
        "child",
        "儿童票",
        "Child ticket",
        category=cats["child"],
        sort_order=2,
        prices={None: ("60", "75", "90")},
    )
    product(
        "senior",
        "老年票",
        "Senior ticket",
        category=cats["senior"],
        sort_order=3,
        real_name_required=True,
        prices={None: ("60", "75", "90")},
    )
    product(
        "student",
        "学生票",
        "Student ticket",
        category=cats["student"],
        sort_order=4,
        prices={None: ("60", "75", "90")},
    )
    product(
        "family",
        "家庭票（2 大 1 小）",
        "Family ticket (2 adults + 1 child)",
        persons=3,
        sort_order=5,
        prices={None: ("280", "350", "420")},
    )
    combo = product(
        "combo-cable",
        "门票+索道联票",
        "Admission + cable car",
        kind="combo",
        category=cats["adult"],
        sort_order=6,
        zones=[],
        prices={None: ("230", "270", "310"), "online": ("220", "260", "300")},
    )
    save(
        ComboComponent(
            combo=combo, zone=main, name="景区门票", name_en="Park admission", sort_order=1
        )
    )
    save(
        ComboComponent(
            combo=combo,
            zone=cable,
            name="索道往返",
            name_en="Cable car return",
            entries=2,
            sort_order=2,
        )
    )
    product(
        "garden",
        "幽兰园门票",
        "Orchid Garden",
        zones=[garden],
        sort_order=7,
        prices={None: ("30", "30", "40")},
    )
    product(
        "show",
        "《云岭印象》夜场演出",
        "Evening show: Impression Yunling",
        zones=[theatre],
        slot_required=True,
        sort_order=8,
        real_name_required=True,
        prices={None: ("198", "198", "238")},
    )
    product(
        "annual",
        "年卡",
        "Annual pass",
        kind="pass",
        validity="pass_period",
        validity_months=12,
        entries=None,
        entries_per_day=2,
        reentry=True,
        real_name_required=True,
        sort_order=9,
        allowed_media=["qr", "card", "id_card", "face"],
        sold_on=[channels["window"], channels["online"]],
        prices={None: ("398",)},
    )
    product(
        "card-fee",
        "补卡工本费",
        "Card replacement fee",
        kind="fee",
        sort_order=20,
        allowed_media=[],
        sold_on=[channels["window"]],
        prices={None: ("20",)},
    )
    product(
        "group",
        "团体票（10–60 人）",
        "Group ticket (10–60 people)",
        kind="group",
        persons=10,
        max_persons=60,
        sort_order=10,
        sold_on=[channels["window"], channels["agency"], channels["ota"]],
        prices={None: ("96", "120", "144")},
    )

    log("capacity: time slots and channel allocations")
    main_tpl = template_save(
        instance=CapacityTemplate(
            site=site, zone=main, name="主区分时预约 Main park time slots", valid_from=start
        ),
        actor=admin,
    )
    for begin, end, cap in [
        ((7, 30), (9, 30), 3000),
        ((9, 30), (11, 30), 4000),
        ((11, 30), (13, 30), 3000),
        ((13, 30), (16, 30), 4000),
    ]:
        save_row(
            TemplateSlot(template=main_tpl, start=dt.time(*begin), end=dt.time(*end), capacity=cap)
        )
    save_row(
        TemplateAllocation(template=main_tpl, channel=channels["ota"], percent=30, release_hours=24)
    )
    save_row(
        TemplateAllocation(
            template=main_tpl, channel=channels["agency"], percent=20, release_hours=24
        )
    )
    cable_tpl = template_save(
        instance=CapacityTemplate(
            site=site, zone=cable, name="索道日运量 Cable car per day", valid_from=start
        ),
        actor=admin,
    )
    save_row(TemplateSlot(template=cable_tpl, capacity=3000))
    show_tpl = template_save(
        instance=CapacityTemplate(
            site=site,
            zone=theatre,
            name="夜场演出 Evening show",
            valid_from=start,
            returns_on_refund=False,
        ),
        actor=admin,
    )
    save_row(
        TemplateSlot(template=show_tpl, start=dt.time(19, 30), end=dt.time(21, 0), capacity=800)
    )

    log("gate devices")
    for lane in Lane.objects.filter(gate__site=site):
        device_save(
            instance=Device(
                code=f"dev-{lane.code}", name=f"闸机 {lane.name}", kind=Device.Kind.GATE, lane=lane
            ),
            actor=admin,
        )

    log("box office: terminals, window discounts, a supervisor's PIN")
    _box_office(site, admin)
    log("customers: a contract, prepaid money, member levels, a member, a guide")
    _customers(site, admin, agency, channels)

    log("online shop: settings, notices, rush days")
    _shop(site, admin)
    log("partners: an OCTO reseller and a sandbox OTA")
    demo_partners(admin=admin)
    return True


DEMO_CARD = "A1B2C3D4"
DEMO_MEMBER_PHONE = "13987654321"


def demo_sample_pass() -> Any:
    """The demo member's annual pass with card A1B2C3D4 (sold by ``admit demo``, not by the test
    fixture, whose world starts without sales)."""
    from admit.customers.models import Member, Pass
    from admit.sales.services.passes import pass_sell

    member = Member.objects.get(phone=DEMO_MEMBER_PHONE)
    found = Pass.objects.filter(member=member).first()
    if found is not None:
        return found
    return pass_sell(
        member=member,
        product=Product.objects.get(code="annual"),
        actor=User.objects.get(username="admin"),
        card_uid=DEMO_CARD,
    )


def _customers(site: Site, admin: Any, agency: Account, channels: dict[str, Channel]) -> None:
    from admit.customers.models import Contract, ContractProduct, GuideRule, MemberLevel
    from admit.customers.services import (
        account_topup,
        contract_save,
        guide_register,
        guide_rule_save,
        member_level_save,
        member_register,
    )

    today = dt.date.today()
    contract = contract_save(
        instance=Contract(
            account=agency,
            number="SUN-2026-001",
            valid_from=today - dt.timedelta(days=30),
            valid_until=today + dt.timedelta(days=730),
            discount_percent=Decimal("0.00"),
        ),
        actor=admin,
        m2m={"channels": [channels["window"], channels["agency"]]},
    )
    group = Product.objects.get(site=site, code="group")
    model_save(
        instance=ContractProduct(contract=contract, product=group, discount_percent=Decimal("10")),
        actor=admin,
    )
    for code in ("adult", "child", "senior", "student", "combo", "cable", "garden", "show"):
        found = Product.objects.filter(site=site, code=code).first()
        if found is not None:
            model_save(instance=ContractProduct(contract=contract, product=found), actor=admin)
    account_topup(account=agency, amount=Decimal("20000.00"), reference="DEMO-TOPUP", actor=admin)
    member_level_save(
        instance=MemberLevel(
            code="silver",
            name="银卡会员 Silver",
            discount_percent=Decimal("5"),
            booking_days_ahead=3,
            sort_order=1,
        ),
        actor=admin,
    )
    gold = member_level_save(
        instance=MemberLevel(
            code="gold",
            name="金卡会员 Gold",
            discount_percent=Decimal("10"),
            booking_days_ahead=7,
            points_per_yuan=Decimal("2"),
            sort_order=2,
        ),
        actor=admin,
    )
    member_register(
        name="张云",
        phone=DEMO_MEMBER_PHONE,
        id_number="530102199003070024",
        level=gold,
        actor=admin,
    )
    guide_rule_save(
        instance=GuideRule(
            site=site,
            min_group=10,
            product=Product.objects.get(site=site, code="adult"),
            entry_discount_percent=Decimal("100"),
            rebate_per_visitor=Decimal("2.00"),
            points_per_visitor=1,
        ),
        actor=admin,
    )
    guide_register(
        name="王导游",
        licence_number="D-5301-000123",
        phone="13800138000",
        account=agency,
        actor=admin,
    )


# Demo keys of the partners (demo only!): printed by ``admit demo``, quoted in docs/partners.md.
DEMO_PARTNERS = [
    # code, name, kind, connector, bearer key, shared secret
    ("klook", "Klook sandbox (OCTO)", "octo", "", "prt_demo_klook_key", "demo-klook-secret"),
    ("ctrip", "携程 Ctrip sandbox (OTA)", "ota", "sandbox", "", "demo-ctrip-secret"),
]


def demo_partners(*, admin: Any) -> list[Partner]:
    """Each partner sells on a channel of its own with the OTA channel's products and prices
    (its net prices) and a B2B account that its confirmed bookings are charged to. They sell
    from the pools' shared part (a quota of their own is a channel share on a capacity
    template; the demo's other figures stay as they were)."""
    ota = Channel.objects.get(code="ota")
    online = Channel.objects.filter(code="online").first()
    products = list(Product.objects.filter(channels=ota).prefetch_related("channels", "prices"))
    out = []
    for code, name, kind, connector, key, secret in DEMO_PARTNERS:
        channel = cs.SAVE_SERVICES[Channel](
            instance=Channel(code=code, name=name, name_en=name, kind="ota"), actor=admin
        )
        for p in products:
            cs.SAVE_SERVICES[Product](
                instance=p, actor=admin, m2m={"channels": [*p.channels.all(), channel]}
            )
            for price in [pr for pr in p.prices.all() if pr.channel_id == ota.pk]:
                cs.SAVE_SERVICES[Price](
                    instance=Price(
                        product=p,
                        channel=channel,
                        day_type=price.day_type,
                        amount=price.amount,
                        valid_from=price.valid_from,
                        valid_until=price.valid_until,
                    ),
                    actor=admin,
                )
        account = account_save(
            instance=Account(code=f"ota-{code}", name=name, credit_limit=Decimal("1000000.00")),
            actor=admin,
        )
        partner = Partner(
            code=code,
            name=name,
            kind=kind,
            connector=connector,
            channel=channel,
            retail_channel=online,
            account=account,
            secret=secret,
        )
        if key:
            partner.key_prefix, partner.key_hash = key[:10], key_hash(key)
        out.append(partner_save(instance=partner, actor=admin))
    return out


def _box_office(site: Site, admin: Any) -> None:
    from admit.boxoffice.models import DiscountPreset, Terminal
    from admit.boxoffice.services import pin_set

    for code, name in (("window-1", "1号窗口"), ("window-2", "2号窗口")):
        model_save(instance=Terminal(code=code, name=name, site=site), actor=admin)
    kiosk = device_save(
        instance=Device(code="kiosk-1", name="自助售取票机 1", kind=Device.Kind.KIOSK), actor=admin
    )
    model_save(
        instance=Terminal(
            code="kiosk-1",
            name="自助售取票机 1",
            site=site,
            kind=Terminal.Kind.KIOSK,
            device=kiosk,
        ),
        actor=admin,
    )
    for sort, (name, en, percent) in enumerate(
        (
            ("本地居民", "Local resident", "10"),
            ("员工亲属", "Staff family", "20"),
            ("军人优抚", "Military", "50"),
        )
    ):
        model_save(
            instance=DiscountPreset(name=name, name_en=en, percent=Decimal(percent), sort=sort),
            actor=admin,
        )
    pin_set(user=User.objects.get(username="supervisor"), pin=SUPERVISOR_PIN, actor=admin)
    # Paper ticket stock: a batch of blank paper, part of it issued to the two cashiers.
    from admit.boxoffice.services import stock_issue, stock_receive

    paper = stock_receive(
        site=site,
        code="R2026-01",
        first_number=1,
        last_number=2000,
        prefix="A",
        digits=7,
        actor=admin,
        note="热敏票纸 / thermal ticket paper",
    )
    for username, first, last in (("cashier", 1, 500), ("cashier2", 501, 1000)):
        stock_issue(
            batch=paper,
            first_number=first,
            last_number=last,
            cashier=User.objects.get(username=username),
            actor=admin,
        )
    _ticket_templates(site, admin)


def _shop(site: Site, admin: Any) -> None:
    """The online shop at /shop/: its limits, two notices and the National Day rush."""
    from admit.shop.models import Notice, RushDay, ShopSettings

    model_save(
        instance=ShopSettings(
            site=site, phone_limit_per_day=10, queue_rate_per_minute=100, queue_admit_minutes=20
        ),
        actor=admin,
    )
    for order, (text, text_en) in enumerate(
        [
            (
                "实行分时预约，请按所选时段入园；实名制门票请携带身份证原件。",
                "Entry is by time slot: please arrive in the slot you chose. Bring the ID card "
                "named on real-name tickets.",
            ),
            (
                "索道遇大风天气可能临时停运，停运时未使用的索道票可全额退款。",
                "The cable car may stop in high wind; unused cable car tickets are then refunded "
                "in full.",
            ),
        ]
    ):
        model_save(
            instance=Notice(site=site, text=text, text_en=text_en, sort_order=order), actor=admin
        )
    for day in range(1, 4):
        model_save(
            instance=RushDay(site=site, date=dt.date(2027, 10, day), note="国庆 National Day"),
            actor=admin,
        )


def _ticket_templates(site: Site, admin: Any) -> None:
    """The site's printed tickets: an 80 mm roll and an A4 sheet, both with the park's logo."""
    import base64

    from admit.boxoffice.models import TicketTemplate
    from admit.boxoffice.printing import starter_layout, tiny_png
    from admit.boxoffice.services.printing import template_save

    def mountains(x: int, y: int) -> tuple[int, int, int, int]:  # 48×48: two peaks and a sun
        ink = (23, 84, 97, 255)
        if (x - 35) ** 2 + (y - 12) ** 2 <= 30:
            return ink
        if y >= 40 or y >= 44 - 1.6 * (16 - abs(x - 16)) or y >= 44 - 1.2 * (12 - abs(x - 33)):
            return ink if y >= 14 else (0, 0, 0, 0)
        return (0, 0, 0, 0)

    logo = base64.b64encode(tiny_png(48, 48, mountains)).decode()
    for name, paper in (("云岭山 80 mm 热敏票", "80mm"), ("云岭山 A4 门票", "a4")):
        template_save(
            instance=TicketTemplate(
                name=name, site=site, paper=paper, layout=starter_layout(paper), logo=logo
            ),
            actor=admin,
        )


def cashier_on_shift(username: str = "cashier", terminal: str = "window-1") -> User:
    """A demo cashier with a shift open at a demo window (a cashier sells only then)."""
    from admit.boxoffice.models import Terminal
    from admit.boxoffice.selectors import open_shift_id
    from admit.boxoffice.services import shift_open

    cashier = User.objects.get(username=username)
    if open_shift_id(cashier.pk) is None:
        shift_open(
            terminal=Terminal.objects.get(code=terminal),
            cashier=cashier,
            opening_float="500.00",
            actor=cashier,
        )
    return cashier
