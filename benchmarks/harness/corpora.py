"""What the scenarios know about the shared corpora: which languages have which splits, and how MultiCoNER II's
fine-grained types group into labelgrow's (the grouping of ../shared/datasets/multiconer2/label_map.tsv)."""

from __future__ import annotations

from collections.abc import Iterable

WIKIANN_TRAIN_LANGS = ["en", "de", "zh"]  # the only WikiANN languages with a train split here
RETENTION_LANGS = ["en", "de", "zh", "es", "fr", "ru"]  # WikiANN test languages old labels are scored on
MULTICONER_LANGS = ["bn", "de", "en", "es", "fa", "fr", "hi", "it", "pt", "sv", "uk", "zh"]

PERSON_TYPES = ("Artist", "Athlete", "Cleric", "OtherPER", "Politician", "Scientist", "SportsManager")
CORP_TYPES = ("PublicCorp", "PrivateCorp")
OTHER_ORG_TYPES = ("AerospaceManufacturer", "CarManufacturer", "MusicalGRP", "ORG", "SportsGRP")
LOCATION_TYPES = ("HumanSettlement", "OtherLOC")
FACILITY_TYPES = ("Facility", "Station")
PRODUCT_TYPES = ("Clothing", "Vehicle", "Food", "Drink", "OtherPROD")
ADDRESS_PLACE_TYPES = ("country", "prov", "city", "district", "town")  # zh_address's units a teacher may call LOC


def to(types: Iterable[str], target: str) -> dict[str, str]:
    """A label-map fragment: every one of ``types`` to ``target``."""
    return dict.fromkeys(types, target)


# MultiCoNER II's person, organisation and location types as the teacher's PER/ORG/LOC
OLD_TYPES_MAP = {
    **to(PERSON_TYPES, "PER"),
    **to(CORP_TYPES + OTHER_ORG_TYPES, "ORG"),
    **to(LOCATION_TYPES, "LOC"),
}
# zh_address's recipient and administrative units as the teacher's PER/LOC
ADDRESS_OLD_TYPES_MAP = {"person": "PER", **to(ADDRESS_PLACE_TYPES, "LOC")}
