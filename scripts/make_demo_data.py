"""Write labelgrow's small embedded demo data into data/ (deterministic; re-run to regenerate).

Synthetic sentences from hand-written templates in English, German and Chinese, with PER/ORG/LOC (the teacher's
labels) and FACILITY (the new label). Names of people, organisations, places and facilities used in the test split
never occur in the training splits, so the demo measures generalisation rather than memorisation.

- data/teacher/{en,de,zh}/{train,dev}.txt   PER, ORG, LOC fully annotated (to bootstrap a teacher)
- data/facility/{en,de,zh}/{train,dev}.txt  only FACILITY annotated: people, organisations, places are tagged O,
                                            the realistic "background shift" case
- data/test/{en,de,zh}/test.txt             every label annotated: scores old and new labels together

Usage: python scripts/make_demo_data.py [OUT_DIR=data]
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

ENTITIES = {
    "en": {
        "PER": [
            "Angela Merkel",
            "Barack Obama",
            "Marie Curie",
            "Ada Lovelace",
            "Nelson Mandela",
            "Frida Kahlo",
            "Alan Turing",
            "Serena Williams",
            "Jane Austen",
            "Lionel Messi",
            "Greta Thunberg",
            "Elon Musk",
        ],
        "PER_TEST": ["Isaac Newton", "Rosa Parks", "Charles Darwin", "Simone Biles", "Yuri Gagarin"],
        "ORG": [
            "Siemens",
            "the United Nations",
            "Microsoft",
            "the BBC",
            "Oxford University",
            "Greenpeace",
            "Toyota",
            "the World Bank",
            "Amnesty International",
            "Airbus",
            "FIFA",
            "Reuters",
        ],
        "ORG_TEST": ["Nokia", "the Red Cross", "Harvard University", "Unilever", "NASA"],
        "LOC": [
            "London",
            "New York",
            "Berlin",
            "Kenya",
            "the Alps",
            "Paris",
            "Texas",
            "Lake Geneva",
            "Tokyo",
            "Brazil",
            "Scotland",
            "the Nile",
        ],
        "LOC_TEST": ["Madrid", "Canada", "the Andes", "Cairo", "Norway"],
        "FAC": [
            "Heathrow Airport",
            "the Golden Gate Bridge",
            "Wembley Stadium",
            "the Louvre",
            "Grand Central Station",
            "the Sydney Opera House",
            "JFK Airport",
            "the Eiffel Tower",
            "Kings Cross station",
            "the Hoover Dam",
            "Central Park Zoo",
            "the Brooklyn Bridge",
        ],
        "FAC_TEST": [
            "Gatwick Airport",
            "the Tower Bridge",
            "Yankee Stadium",
            "Union Station",
            "the Empire State Building",
        ],
    },
    "de": {
        "PER": [
            "Angela Merkel",
            "Olaf Scholz",
            "Albert Einstein",
            "Sophie Scholl",
            "Thomas Mann",
            "Clara Schumann",
            "Helmut Kohl",
            "Steffi Graf",
            "Johann Goethe",
            "Marlene Dietrich",
            "Franz Beckenbauer",
            "Hannah Arendt",
        ],
        "PER_TEST": ["Konrad Adenauer", "Lise Meitner", "Willy Brandt", "Nena Kerner", "Max Planck"],
        "ORG": [
            "Siemens",
            "Volkswagen",
            "Bayer",
            "Lufthansa",
            "Adidas",
            "BASF",
            "SAP",
            "Henkel",
            "Continental",
            "Zalando",
            "Infineon",
            "Deutsche Bahn",
        ],
        "ORG_TEST": ["Bosch", "Allianz", "Porsche", "Audi", "Beiersdorf"],
        "LOC": [
            "Berlin",
            "Hamburg",
            "Bayern",
            "Österreich",
            "München",
            "Sachsen",
            "Köln",
            "Frankfurt",
            "Dresden",
            "Thüringen",
            "Hessen",
            "Kiel",
        ],
        "LOC_TEST": ["Leipzig", "Bremen", "Stuttgart", "Tirol", "Potsdam"],
        "FAC": [
            "die Elbphilharmonie",
            "der Flughafen München",
            "das Brandenburger Tor",
            "der Kölner Dom",
            "der Berliner Hauptbahnhof",
            "die Allianz Arena",
            "das Olympiastadion",
            "der Reichstag",
            "der Frankfurter Flughafen",
            "die Zugspitzbahn",
            "das Deutsche Museum",
            "die Semperoper",
        ],
        "FAC_TEST": [
            "der Hamburger Hafen",
            "das Schloss Neuschwanstein",
            "der Flughafen Tegel",
            "die Wartburg",
            "der Leipziger Hauptbahnhof",
        ],
    },
    "zh": {
        "PER": [
            "马云",
            "李白",
            "王菲",
            "姚明",
            "屠呦呦",
            "鲁迅",
            "孙中山",
            "郎平",
            "莫言",
            "周杰伦",
            "钱学森",
            "张艺谋",
        ],
        "PER_TEST": ["杜甫", "邓丽君", "袁隆平", "刘翔", "林徽因"],
        "ORG": [
            "阿里巴巴",
            "华为公司",
            "清华大学",
            "中国银行",
            "腾讯",
            "联合国",
            "新华社",
            "北京大学",
            "小米公司",
            "中国移动",
            "国家电网",
            "中央电视台",
        ],
        "ORG_TEST": ["百度公司", "复旦大学", "中国石化", "人民日报", "京东集团"],
        "LOC": ["北京", "上海", "杭州", "长江", "广东", "西藏", "黄河", "深圳", "四川", "南京", "泰山", "新疆"],
        "LOC_TEST": ["成都", "云南", "武汉", "青海", "厦门"],
        "FAC": [
            "首都国际机场",
            "上海虹桥火车站",
            "故宫博物院",
            "鸟巢体育场",
            "东方明珠塔",
            "杭州东站",
            "长城",
            "三峡大坝",
            "浦东国际机场",
            "天安门广场",
            "国家大剧院",
            "南京长江大桥",
        ],
        "FAC_TEST": ["白云国际机场", "广州塔", "北京西站", "苏州博物馆", "港珠澳大桥"],
    },
}

# Templates: {PER} {ORG} {LOC} {FAC}; en/de words are space-separated, zh is split into characters.
TEACHER = {
    "en": [
        "{PER} was born in {LOC} .",
        "{PER} works for {ORG} in {LOC} .",
        "{ORG} opened an office in {LOC} .",
        "Yesterday {PER} met the head of {ORG} .",
        "{PER} travelled from {LOC} to {LOC} last week .",
        "{ORG} announced new jobs in {LOC} on Monday .",
        "Critics say {PER} should leave {ORG} .",
        "The river flows through {LOC} .",
        "{PER} and {PER} spoke in {LOC} .",
        "Shares of {ORG} rose again .",
    ],
    "de": [
        "{PER} wurde in {LOC} geboren .",
        "{PER} arbeitet für {ORG} in {LOC} .",
        "{ORG} eröffnet ein Büro in {LOC} .",
        "Gestern traf {PER} den Chef von {ORG} .",
        "{PER} reiste von {LOC} nach {LOC} .",
        "{ORG} kündigt neue Stellen in {LOC} an .",
        "Kritiker sagen , {PER} solle {ORG} verlassen .",
        "Der Fluss fließt durch {LOC} .",
        "{PER} und {PER} sprachen in {LOC} .",
        "Die Aktie von {ORG} stieg erneut .",
    ],
    "zh": [
        "{PER}出生在{LOC}。",
        "{PER}在{LOC}的{ORG}工作。",
        "{ORG}在{LOC}开设了办事处。",
        "昨天{PER}会见了{ORG}的负责人。",
        "{PER}上周从{LOC}去了{LOC}。",
        "{ORG}周一宣布在{LOC}招聘。",
        "有人认为{PER}应该离开{ORG}。",
        "这条河流经{LOC}。",
        "{PER}和{PER}在{LOC}发表讲话。",
        "{ORG}的股价再次上涨。",
    ],
}
FACILITY = {
    "en": [
        "We landed at {FAC} early in the morning .",
        "{PER} gave a concert at {FAC} .",
        "{FAC} is closed for repairs this week .",
        "The new train stops at {FAC} in {LOC} .",
        "{ORG} will renovate {FAC} next year .",
        "Thousands of tourists visit {FAC} every day .",
        "The meeting took place near {FAC} .",
        "A fire broke out close to {FAC} in {LOC} .",
        "Tickets for {FAC} are sold online .",
        "{PER} proposed to build a museum next to {FAC} .",
    ],
    # German facilities appear as subjects only, so that their articles stay in the nominative
    "de": [
        "{FAC} war am frühen Morgen fast leer .",
        "{FAC} war beim Konzert von {PER} ausverkauft .",
        "Diese Woche bleibt {FAC} wegen Bauarbeiten geschlossen .",
        "In {LOC} ist {FAC} nur zehn Minuten vom Zentrum entfernt .",
        "Laut {ORG} wird {FAC} im nächsten Jahr renoviert .",
        "Jeden Tag ist {FAC} voller Touristen .",
        "Gegenüber dem Hotel liegt {FAC} .",
        "In {LOC} brannte es , {FAC} wurde geräumt .",
        "{FAC} verkauft Karten auch online .",
        "{PER} findet , {FAC} braucht ein neues Museum .",
    ],
    "zh": [
        "我们一早降落在{FAC}。",
        "{PER}在{FAC}举办了音乐会。",
        "{FAC}本周因维修关闭。",
        "新列车停靠{LOC}的{FAC}。",
        "{ORG}明年将翻修{FAC}。",
        "每天都有成千上万的游客参观{FAC}。",
        "会议在{FAC}附近举行。",
        "{LOC}的{FAC}附近发生了火灾。",
        "{FAC}的门票在网上出售。",
        "{PER}建议在{FAC}旁边建一座博物馆。",
    ],
}
TYPES = {"PER": "PER", "ORG": "ORG", "LOC": "LOC", "FAC": "FACILITY"}


def words(text: str, lang: str) -> list[str]:
    return list(text.replace(" ", "")) if lang == "zh" else text.split()


def fill(template: str, lang: str, rng: random.Random, split: str, keep: set[str]) -> list[tuple[str, str]]:
    """Tokens and tags for one template; entity types not in ``keep`` are tagged O (partial annotation)."""
    rows: list[tuple[str, str]] = []
    rest = template
    while "{" in rest:
        before, _, after = rest.partition("{")
        slot, _, rest = after.partition("}")
        rows += [(w, "O") for w in words(before, lang)]
        pool = ENTITIES[lang][f"{slot}_TEST" if split == "test" else slot]
        name = rng.choice(pool)
        tokens = words(name, lang)
        # an article in front of a German or English name is not part of the entity
        article = tokens[0].lower() in {"the", "die", "der", "das"} and len(tokens) > 1
        if article:
            rows.append((tokens[0], "O"))
            tokens = tokens[1:]
        type_ = TYPES[slot]
        for i, token in enumerate(tokens):
            rows.append((token, f"{'B' if i == 0 else 'I'}-{type_}" if type_ in keep else "O"))
    rows += [(w, "O") for w in words(rest, lang)]
    return rows


def write(path: Path, sentences: list[list[tuple[str, str]]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join("\n".join(f"{t} {g}" for t, g in s) for s in sentences) + "\n", encoding="utf-8")


def main(out: Path) -> None:
    rng = random.Random(20261122)
    old, new = {"PER", "ORG", "LOC"}, {"FACILITY"}
    for lang in ("en", "de", "zh"):
        teacher = [fill(rng.choice(TEACHER[lang]), lang, rng, "train", old) for _ in range(150)]
        write(out / "teacher" / lang / "train.txt", teacher[:120])
        write(out / "teacher" / lang / "dev.txt", teacher[120:])
        facility = [fill(rng.choice(FACILITY[lang]), lang, rng, "train", new) for _ in range(100)]
        write(out / "facility" / lang / "train.txt", facility[:80])
        write(out / "facility" / lang / "dev.txt", facility[80:])
        test = [fill(rng.choice(TEACHER[lang] + FACILITY[lang]), lang, rng, "test", old | new) for _ in range(60)]
        write(out / "test" / lang / "test.txt", test)
    print(f"wrote demo data under {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("data"))
