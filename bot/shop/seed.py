"""Demo data: a handful of customers and orders, dated relative to today."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.shop.models import Customer, Order, OrderItem, Product, ProductName

# The catalogue in all four languages: sku -> (category, {lang: (name, synonyms)}).
# Synonyms are the words customers use (generic name, category, common spellings).
DEMO_PRODUCTS: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "KT-220": (
        "kitchen",
        {
            "en": ("Electric kettle Voltik 1.7 l", "kettle, water boiler, electric kettle"),
            "ru": ("Электрический чайник Voltik 1,7 л", "чайник, электрочайник, chaynik, chajnik"),
            "sk": ("Rýchlovarná kanvica Voltik 1,7 l", "kanvica, rychlovarka, varnú kanvicu"),
            "hu": ("Vízforraló Voltik 1,7 l", "vízforraló, teafőző, forraló"),
        },
    ),
    "EB-310": (
        "hygiene",
        {
            "en": ("In-ear earbuds Sonix Buds", "earbuds, earphones, in-ears"),
            "ru": ("Внутриканальные наушники Sonix Buds", "наушники-вкладыши, вкладыши, затычки"),
            "sk": ("Slúchadlá do uší Sonix Buds", "slúchadlá do uší, štuple"),
            "hu": ("Fülbe helyezhető fülhallgató Sonix Buds", "fülhallgató, fülbevaló hallgató"),
        },
    ),
    "TV-55Q": (
        "tv",
        {
            "en": ('55" QLED TV Lumio Q55', "tv, television, telly"),
            "ru": ('Телевизор QLED 55" Lumio Q55', "телевизор, телек, televizor"),
            "sk": ('Televízor QLED 55" Lumio Q55', "televízor, telka, telku, tv"),
            "hu": ('QLED televízió 55" Lumio Q55', "tévé, televízió, tv"),
        },
    ),
    "LP-14A": (
        "computers",
        {
            "en": ("Laptop Aero 14 (16 GB)", "laptop, notebook, computer"),
            "ru": ("Ноутбук Aero 14 (16 ГБ)", "ноутбук, ноут, компьютер, noutbuk"),
            "sk": ("Notebook Aero 14 (16 GB)", "notebook, laptop, počítač"),
            "hu": ("Laptop Aero 14 (16 GB)", "laptop, notebook, számítógép"),
        },
    ),
    "MS-02": (
        "accessories",
        {
            "en": ("Wireless mouse Glide", "mouse, computer mouse"),
            "ru": ("Беспроводная мышь Glide", "мышь, мышка, myshka"),
            "sk": ("Bezdrôtová myš Glide", "myš, myšku, mys"),
            "hu": ("Vezeték nélküli egér Glide", "egér, egeret"),
        },
    ),
    "CM-700": (
        "kitchen",
        {
            "en": ("Coffee machine Barista Pro", "coffee machine, coffee maker, espresso machine"),
            "ru": ("Кофемашина Barista Pro", "кофемашина, кофеварка, kofemashina"),
            "sk": ("Kávovar Barista Pro", "kávovar, presso, espresso"),
            "hu": ("Kávéfőző Barista Pro", "kávéfőző, kávégép, eszpresszógép"),
        },
    ),
    "HP-900": (
        "audio",
        {
            "en": ("Over-ear headphones Sonix 900", "headphones, headset, cans"),
            "ru": ("Полноразмерные наушники Sonix 900", "наушники, гарнитура, naushniki"),
            "sk": ("Slúchadlá cez uši Sonix 900", "slúchadlá, sluchadla"),
            "hu": ("Fejhallgató Sonix 900", "fejhallgató, headset"),
        },
    ),
    "GC-050": (
        "gift_card",
        {
            "en": ("Gift card EUR 50", "gift card, voucher"),
            "ru": ("Подарочная карта 50 EUR", "подарочная карта, сертификат"),
            "sk": ("Darčeková karta 50 EUR", "darčeková karta, poukaz, poukážka"),
            "hu": ("Ajándékkártya 50 EUR", "ajándékkártya, utalvány"),
        },
    ),
}

# number, email, name, lang, status, days since ordered, delivered days ago, items
# item: (sku, name, category, price)
DEMO_ORDERS = [
    (
        "482913",
        "anna.kovacova@example.sk",
        "Anna Kováčová",
        "sk",
        "delivered",
        12,
        8,
        [
            ("KT-220", "Electric kettle Voltik 1.7 l", "kitchen", "39.90"),
            ("EB-310", "In-ear earbuds Sonix Buds", "hygiene", "59.00"),
        ],
    ),
    (
        "593011",
        "peter.novak@example.com",
        "Peter Novak",
        "en",
        "shipped",
        3,
        None,
        [("TV-55Q", '55" QLED TV Lumio Q55', "tv", "649.00")],
    ),
    (
        "617245",
        "ivan.petrov@example.ru",
        "Иван Петров",
        "ru",
        "processing",
        1,
        None,
        [
            ("LP-14A", "Laptop Aero 14 (16 GB)", "computers", "1099.00"),
            ("MS-02", "Wireless mouse Glide", "accessories", "24.90"),
        ],
    ),
    (
        "705528",
        "kiss.eszter@example.hu",
        "Kiss Eszter",
        "hu",
        "delivered",
        50,
        45,
        [("CM-700", "Coffee machine Barista Pro", "kitchen", "329.00")],
    ),
    (
        "731640",
        "peter.novak@example.com",
        "Peter Novak",
        "en",
        "delivered",
        6,
        3,
        [
            ("HP-900", "Over-ear headphones Sonix 900", "audio", "199.00"),
            ("GC-050", "Gift card EUR 50", "gift_card", "50.00"),
        ],
    ),
]


def seed_demo_data(database_url: str, today: date | None = None) -> list[tuple[str, str, str]]:
    """Insert the demo data once (into a migrated database). Returns (order number, email, status)."""
    today = today or date.today()
    with session_scope(database_url) as session:
        seed_products(session)
        for number, email, name, lang, status, ordered_days, delivered_days, items in DEMO_ORDERS:
            if session.execute(select(Order).where(Order.number == number)).scalar_one_or_none():
                continue
            customer = session.execute(select(Customer).where(Customer.email == email)).scalar_one_or_none()
            if customer is None:
                customer = Customer(email=email, name=name, language=lang)
                session.add(customer)
                session.flush()
            ordered = today - timedelta(days=ordered_days)
            shipped = ordered + timedelta(days=1) if status in {"shipped", "delivered"} else None
            delivered = today - timedelta(days=delivered_days) if delivered_days is not None else None
            order = Order(
                number=number,
                customer_id=customer.id,
                status=status,
                carrier="GLS" if shipped else None,
                tracking_number=f"GLS{number}SK" if shipped else None,
                ordered_at=ordered,
                shipped_at=shipped,
                delivered_at=delivered,
                estimated_delivery=delivered or today + timedelta(days=2),
            )
            session.add(order)
            session.flush()
            for sku, item_name, category, price in items:
                session.add(
                    OrderItem(
                        order_id=order.id,
                        sku=sku,
                        name=item_name,
                        category=category,
                        unit_price_cents=int(Decimal(price) * 100),
                    )
                )
    return [(number, email, status) for number, email, _, _, status, *_ in DEMO_ORDERS]


def seed_products(session: Session) -> None:
    """Insert the catalogue once (idempotent, so an older demo database gains it too)."""
    known = set(session.execute(select(Product.sku)).scalars())
    for sku, (category, names) in DEMO_PRODUCTS.items():
        if sku in known:
            continue
        product = Product(sku=sku, category=category)
        session.add(product)
        session.flush()
        for lang, (name, synonyms) in names.items():
            session.add(ProductName(product_id=product.id, lang=lang, name=name, synonyms=synonyms))
