"""A generator of short multilingual texts with phone numbers (SYNTHETIC: no public multilingual set exists).

Delivery notes, contact lines and messages in eight languages and five scripts, with national number formats
(``+`` country codes, spaces, dashes, dots, slashes, brackets, trunk prefixes, extensions such as ``ext. 23``,
``доб. 123``, ``转8001``), numbers glued to the word before them where the text's script allows it (``Tel:+49…``,
``电话13800138000``) and distractors that are not phone numbers (order numbers, dates, times, postcodes, prices).
People, companies and places are filled in too and marked as PER / ORG / LOC spans, so the same texts serve
the background shift (PHONE only) and a fully annotated bound.

Each text is a span-JSON line (labelgrow's format): ``{"text", "label": {TYPE: {surface: [[start, end]]}}, "lang"}``
with inclusive ends. A phone number glued to Latin letters (``call0612345678``) is never generated: labelgrow labels
whole words, and that is one word (docs/benchmarks.md says so).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

# X: a random digit. Every format is written as the country writes it.
FORMATS = {
    "en": [
        "+44 20 XXXX XXXX",
        "020 XXXX XXXX",
        "+1 (XXX) XXX-XXXX",
        "XXX-XXX-XXXX",
        "(XXX) XXX XXXX",
        "+1 XXX XXX XXXX ext. XX",
        "07XXX XXXXXX",
    ],
    "de": [
        "+49 30 XXXXXXXX",
        "030 XXXXXXXX",
        "030/XXXXXXX",
        "+49 (0)89 XXXXXX-XX",
        "0151 XXXXXXXX",
        "+49 40 XXXXXX-XXX",
    ],
    "fr": ["+33 X XX XX XX XX", "0X XX XX XX XX", "06.XX.XX.XX.XX", "+33 (0)X XX XX XX XX"],
    "es": ["+34 9XX XXX XXX", "6XX XX XX XX", "+34 6XX-XXX-XXX", "9XX XXX XXX ext. XXX"],
    "zh": [
        "+86 1XX XXXX XXXX",
        "1XX-XXXX-XXXX",
        "1XXXXXXXXXX",
        "(010) XXXX XXXX",
        "010-XXXXXXXX转XXXX",
        "+86-21-XXXXXXXX",
    ],
    "ru": [
        "+7 (495) XXX-XX-XX",
        "8 800 XXX-XX-XX",
        "+7 9XX XXX XX XX",
        "+7 (812) XXX-XX-XX доб. XXX",
        "8 (9XX) XXX-XX-XX",
    ],
    "ar": ["+971 4 XXX XXXX", "05X XXX XXXX", "+966 5X XXX XXXX", "+20 1X XXXX XXXX"],
    "hi": ["+91 9XXXX XXXXX", "09XXXX XXXXX", "+91-XX-XXXX-XXXX", "011 XXXX XXXX"],
}

PEOPLE = {
    "en": ["Anna Smith", "John Miller", "Priya Patel", "Tom Baker"],
    "de": ["Jonas Weber", "Lena Fischer", "Murat Yilmaz", "Eva Schmidt"],
    "fr": ["Claire Martin", "Julien Dubois", "Amina Benali"],
    "es": ["Lucía García", "Javier López", "Sofía Torres"],
    "zh": ["王伟", "李娜", "张敏", "刘洋"],
    "ru": ["Иван Петров", "Анна Смирнова", "Олег Кузнецов"],
    "ar": ["محمد علي", "فاطمة حسن", "أحمد خالد"],
    "hi": ["राहुल शर्मा", "प्रिया सिंह", "अमित कुमार"],
}
COMPANIES = {
    "en": ["DHL", "FedEx", "Royal Mail", "UPS"],
    "de": ["DHL", "Hermes", "DPD", "GLS"],
    "fr": ["La Poste", "Chronopost", "DPD"],
    "es": ["Correos", "SEUR", "MRW"],
    "zh": ["顺丰速运", "中通快递", "京东物流"],
    "ru": ["Почта России", "СДЭК", "Boxberry"],
    "ar": ["أرامكس", "سمسا", "البريد السعودي"],
    "hi": ["ब्लू डार्ट", "डेल्हीवरी", "इंडिया पोस्ट"],
}
PLACES = {
    "en": ["London", "Boston", "Manchester", "Leeds"],
    "de": ["Berlin", "Hamburg", "München", "Köln"],
    "fr": ["Paris", "Lyon", "Marseille"],
    "es": ["Madrid", "Sevilla", "Valencia"],
    "zh": ["北京", "上海", "深圳", "杭州"],
    "ru": ["Москва", "Казань", "Новосибирск"],
    "ar": ["دبي", "الرياض", "القاهرة"],
    "hi": ["दिल्ली", "मुंबई", "जयपुर"],
}
# {PHONE} {PER} {ORG} {LOC}; {N}: a distractor number (order, date, time, postcode, price), never a phone.
TEMPLATES = {
    "en": [
        "Call {PER} at {PHONE} before 5 pm.",
        "{ORG} courier: {PHONE}",
        "Deliver to {LOC}, contact {PHONE}.",
        "Tel:{PHONE}",
        "Order {N} shipped on 12/03, questions? {PHONE}",
        "Leave the parcel with {PER}, {PHONE}",
    ],
    "de": [
        "Bitte {PER} unter {PHONE} anrufen.",
        "Tel.: {PHONE}",
        "{ORG} Kundenservice {PHONE} (Mo–Fr 8–18 Uhr)",
        "Lieferung nach {LOC}, Rückfragen unter {PHONE}",
        "Paket {N} für {PER}, Tel.{PHONE}",
    ],
    "fr": [
        "Appelez {PER} au {PHONE}.",
        "Tél : {PHONE}",
        "Livraison à {LOC}, contact {ORG} {PHONE}",
        "Colis {N} : joindre le {PHONE} avant 18h",
    ],
    "es": [
        "Llame a {PER} al {PHONE}.",
        "Tel.:{PHONE}",
        "Entrega en {LOC}; {ORG} {PHONE}",
        "Pedido {N}, llamar al {PHONE}",
    ],
    "zh": [
        "请联系{PER}，电话{PHONE}。",
        "{ORG}快递员电话：{PHONE}",
        "送到{LOC}，电话{PHONE}",
        "电话{PHONE}",
        "订单{N}，收件人{PER}，手机{PHONE}",
    ],
    "ru": [
        "Позвоните {PER} по телефону {PHONE}.",
        "Тел.: {PHONE}",
        "{ORG}, курьер {PHONE}, {LOC}",
        "Заказ {N}: звонить {PHONE} после 10:00",
    ],
    "ar": [
        "اتصل بـ {PER} على الرقم {PHONE}",
        "هاتف: {PHONE}",
        "{ORG} في {LOC}، للاستفسار {PHONE}",
        "الطلب {N}، الهاتف {PHONE}",
    ],
    "hi": [
        "{PER} को {PHONE} पर कॉल करें।",
        "फ़ोन: {PHONE}",
        "{ORG} {LOC}, संपर्क {PHONE}",
        "ऑर्डर {N} के लिए {PHONE} पर कॉल करें",
    ],
}
# texts with numbers that are not phone numbers: the new type must not take every digit run
DISTRACTORS = {
    "en": [
        "Order {N} arrives on 12/03/2026 at 10:30 in {LOC}.",
        "Room 204, 3rd floor, {LOC} SW1A 1AA",
        "{ORG} charged £12.50 for parcel {N}.",
    ],
    "de": [
        "Paket {N} kommt am 03.12.2026 um 10:30 in {LOC} an.",
        "Hauptstraße 12, 10115 {LOC}",
        "{ORG} berechnet 4,99 € für Sendung {N}.",
    ],
    "fr": ["Colis {N} livré le 03/12/2026 à {LOC}.", "12 rue de la Paix, 75002 {LOC}"],
    "es": ["Pedido {N} entregado el 03/12/2026 en {LOC}.", "Calle Mayor 5, 28013 {LOC}"],
    "zh": ["订单{N}于2026年12月3日14:30送达{LOC}。", "{LOC}市朝阳区建国路88号"],
    "ru": ["Заказ {N} доставлен 03.12.2026 в {LOC}.", "ул. Ленина, д. 12, кв. 45, {LOC}"],
    "ar": ["الطلب {N} وصل في 03/12/2026 إلى {LOC}"],
    "hi": ["ऑर्डर {N} 03/12/2026 को {LOC} पहुँचा।"],
}
LANGUAGES = tuple(FORMATS)


def _number(fmt: str, rng: random.Random) -> str:
    return "".join(str(rng.randrange(10)) if c == "X" else c for c in fmt)


def _fill(template: str, lang: str, rng: random.Random, formats: list[str]) -> tuple[str, list[tuple[str, int, int]]]:
    """The text and its spans (type, start, end exclusive), left to right."""
    text, spans, rest = "", [], template
    while "{" in rest:
        before, _, after = rest.partition("{")
        slot, _, rest = after.partition("}")
        text += before
        if slot == "N":
            value = str(rng.randrange(10_000, 99_999_999))
            text += value
            continue
        value = {
            "PHONE": lambda: _number(rng.choice(formats), rng),
            "PER": lambda: rng.choice(PEOPLE[lang]),
            "ORG": lambda: rng.choice(COMPANIES[lang]),
            "LOC": lambda: rng.choice(PLACES[lang]),
        }[slot]()
        spans.append((slot, len(text), len(text) + len(value)))
        text += value
    return text + rest, spans


def generate(lang: str, n: int, seed: int, distractor_share: float = 0.2) -> Iterator[dict]:
    """``n`` span-JSON records in ``lang``; about ``distractor_share`` of them have numbers but no phone."""
    rng = random.Random(f"{lang}-{seed}")
    for _ in range(n):
        templates = DISTRACTORS[lang] if rng.random() < distractor_share else TEMPLATES[lang]
        text, spans = _fill(rng.choice(templates), lang, rng, FORMATS[lang])
        label: dict[str, dict[str, list[list[int]]]] = {}
        for kind, start, end in spans:
            label.setdefault(kind, {}).setdefault(text[start:end], []).append([start, end - 1])
        yield {"text": text, "label": label, "lang": lang}


def write(path: Path, lang: str, n: int, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for record in generate(lang, n, seed):
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path
