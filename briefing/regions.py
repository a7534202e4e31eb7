"""Which region of the brief a country belongs to, and which countries a text names.

A plain data table (:data:`_TABLE`): every UN member state, the two observer states and
a few widely reported territories, each with its region and the other ways news copy
names it (demonyms, short forms, capitals used as metonyms: "Tehran said...").

* :func:`region_for_country` maps one name or alias to its :class:`Region`.
* :func:`countries_in_text` lists the countries a text names, by canonical name, in
  order of first mention (case-sensitive, whole words: "US" is a country, "us" is not).
* :func:`country_mentions` counts the mentions per country (used to check the region a
  model chose against the countries its source names).
* :func:`focus_region` decides where a story goes: the region with the most country
  mentions, each weighted by where it occurs (a story's headline counts 3, its summary
  2, key points and the verified country list 1), ties in taxonomy order.

The taxonomy (:class:`briefing.models.Region`, also the default section order):
Middle East & North Africa, Europe, Sub-Saharan Africa, Asia-Pacific, Americas, and
Global for stories that name no country (or whose region could not be verified).
Short names accepted by ``--regions`` (:func:`parse_region`): ``middle_east`` / ``mena``,
``europe``, ``africa``, ``asia`` / ``asia_pacific``, ``americas``, ``global``.

Placement choices worth knowing: Turkey, Sudan and the Gulf states are in the Middle
East & North Africa; the Caucasus, Russia and Cyprus are in Europe; Central and South
Asia and Oceania are in Asia-Pacific; Mauritania, Somalia and Djibouti are in
Sub-Saharan Africa. Ambiguous capitals ("Washington" the state, "Georgia" the US
state) are accepted as country mentions: in news copy they almost always are.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from briefing.models import Region

__all__ = [
    "COUNTRIES",
    "canonical_country",
    "countries_in_text",
    "country_mentions",
    "counts_by_region",
    "dominant_region",
    "focus_region",
    "parse_region",
    "region_counts",
    "region_for_country",
    "spellings",
]

_CODES = {
    "ME": Region.MIDDLE_EAST,
    "EU": Region.EUROPE,
    "AF": Region.AFRICA,
    "AP": Region.ASIA_PACIFIC,
    "AM": Region.AMERICAS,
}

# name | region | aliases (demonyms, short forms, capital), separated by ";" (a name may
# take two lines)
_TABLE = """
Afghanistan | AP | Afghan; Afghans; Kabul
Albania | EU | Albanian; Albanians; Tirana
Algeria | ME | Algerian; Algerians; Algiers
Andorra | EU | Andorran
Angola | AF | Angolan; Angolans; Luanda
Antigua and Barbuda | AM | Antiguan
Argentina | AM | Argentine; Argentinian; Argentines; Buenos Aires
Armenia | EU | Armenian; Armenians; Yerevan
Australia | AP | Australian; Australians; Canberra
Austria | EU | Austrian; Austrians; Vienna
Azerbaijan | EU | Azerbaijani; Azeri; Baku
Bahamas | AM | Bahamian; Nassau
Bahrain | ME | Bahraini; Bahrainis; Manama
Bangladesh | AP | Bangladeshi; Bangladeshis; Dhaka
Barbados | AM | Barbadian; Bridgetown
Belarus | EU | Belarusian; Belarusians; Minsk
Belgium | EU | Belgian; Belgians; Brussels
Belize | AM | Belizean
Benin | AF | Beninese; Porto-Novo; Cotonou
Bhutan | AP | Bhutanese; Thimphu
Bolivia | AM | Bolivian; Bolivians; La Paz; Sucre
Bosnia and Herzegovina | EU | Bosnia; Bosnian; Bosnians; Sarajevo
Botswana | AF | Gaborone
Brazil | AM | Brazilian; Brazilians; Brasilia; Brasília
Brunei | AP | Bruneian; Bandar Seri Begawan
Bulgaria | EU | Bulgarian; Bulgarians
Burkina Faso | AF | Burkinabe; Ouagadougou
Burundi | AF | Burundian; Gitega; Bujumbura
Cabo Verde | AF | Cape Verde; Cape Verdean; Praia
Cambodia | AP | Cambodian; Cambodians; Phnom Penh
Cameroon | AF | Cameroonian; Cameroonians; Yaounde; Yaoundé
Canada | AM | Canadian; Canadians; Ottawa
Central African Republic | AF | Bangui
Chad | AF | Chadian; Chadians; N'Djamena
Chile | AM | Chilean; Chileans; Santiago
China | AP | Chinese; Beijing; PRC
Colombia | AM | Colombian; Colombians; Bogota; Bogotá
Comoros | AF | Comorian; Moroni
Congo | AF | Republic of the Congo; Congo-Brazzaville; Brazzaville
Costa Rica | AM | Costa Rican; San Jose; San José
Cote d'Ivoire | AF | Côte d'Ivoire; Ivory Coast; Ivorian; Ivorians; Yamoussoukro; Abidjan
Croatia | EU | Croatian; Croatians; Croat; Croats; Zagreb
Cuba | AM | Cuban; Cubans; Havana
Cyprus | EU | Cypriot; Cypriots; Nicosia
Czechia | EU | Czech Republic; Czech; Czechs; Prague
Democratic Republic of the Congo | AF | DR Congo; DRC; Congolese; Kinshasa
Denmark | EU | Danish; Danes; Copenhagen
Djibouti | AF | Djiboutian
Dominica | AM | Dominican; Roseau
Dominican Republic | AM | Santo Domingo
Ecuador | AM | Ecuadorian; Ecuadorians; Quito
Egypt | ME | Egyptian; Egyptians; Cairo
El Salvador | AM | Salvadoran; Salvadorans; San Salvador
Equatorial Guinea | AF | Equatoguinean; Malabo
Eritrea | AF | Eritrean; Eritreans; Asmara
Estonia | EU | Estonian; Estonians; Tallinn
Eswatini | AF | Swaziland; Swazi; Mbabane
Ethiopia | AF | Ethiopian; Ethiopians; Addis Ababa
Fiji | AP | Fijian; Suva
Finland | EU | Finnish; Finns; Helsinki
France | EU | French; Paris; Elysee; Élysée
Gabon | AF | Gabonese; Libreville
Gambia | AF | Gambian; Banjul
Georgia | EU | Georgian; Georgians; Tbilisi
Germany | EU | German; Germans; Berlin
Ghana | AF | Ghanaian; Ghanaians; Accra
Greece | EU | Greek; Greeks; Athens
Grenada | AM | Grenadian
Guatemala | AM | Guatemalan; Guatemalans; Guatemala City
Guinea | AF | Guinean; Guineans; Conakry
Guinea-Bissau | AF | Bissau
Guyana | AM | Guyanese; Georgetown
Haiti | AM | Haitian; Haitians; Port-au-Prince
Holy See | EU | Vatican; Vatican City
Honduras | AM | Honduran; Hondurans; Tegucigalpa
Hungary | EU | Hungarian; Hungarians; Budapest
Iceland | EU | Icelandic; Icelanders; Reykjavik
India | AP | Indian; Indians; New Delhi
Indonesia | AP | Indonesian; Indonesians; Jakarta
Iran | ME | Iranian; Iranians; Tehran; Islamic Republic
Iraq | ME | Iraqi; Iraqis; Baghdad
Ireland | EU | Irish; Dublin
Israel | ME | Israeli; Israelis; Jerusalem; Tel Aviv
Italy | EU | Italian; Italians; Rome
Jamaica | AM | Jamaican; Jamaicans; Kingston
Japan | AP | Japanese; Tokyo
Jordan | ME | Jordanian; Jordanians; Amman
Kazakhstan | AP | Kazakh; Kazakhs; Astana
Kenya | AF | Kenyan; Kenyans; Nairobi
Kiribati | AP | Tarawa
Kosovo | EU | Kosovar; Kosovars; Pristina; Priština
Kuwait | ME | Kuwaiti; Kuwaitis
Kyrgyzstan | AP | Kyrgyz; Bishkek
Laos | AP | Lao; Laotian; Vientiane
Latvia | EU | Latvian; Latvians; Riga
Lebanon | ME | Lebanese; Beirut
Lesotho | AF | Basotho; Maseru
Liberia | AF | Liberian; Liberians; Monrovia
Libya | ME | Libyan; Libyans; Tripoli
Liechtenstein | EU | Vaduz
Lithuania | EU | Lithuanian; Lithuanians; Vilnius
Luxembourg | EU | Luxembourgish
Madagascar | AF | Malagasy; Antananarivo
Malawi | AF | Malawian; Malawians; Lilongwe
Malaysia | AP | Malaysian; Malaysians; Kuala Lumpur
Maldives | AP | Maldivian
Mali | AF | Malian; Malians; Bamako
Malta | EU | Maltese; Valletta
Marshall Islands | AP | Marshallese; Majuro
Mauritania | AF | Mauritanian; Nouakchott
Mauritius | AF | Mauritian; Port Louis
Mexico | AM | Mexican; Mexicans; Mexico City
Micronesia | AP | Micronesian; Palikir
Moldova | EU | Moldovan; Moldovans; Chisinau; Chișinău
Monaco | EU | Monegasque
Mongolia | AP | Mongolian; Mongolians; Ulaanbaatar
Montenegro | EU | Montenegrin; Podgorica
Morocco | ME | Moroccan; Moroccans; Rabat
Mozambique | AF | Mozambican; Maputo
Myanmar | AP | Burma; Burmese; Naypyidaw; Yangon
Namibia | AF | Namibian; Windhoek
Nauru | AP | Nauruan
Nepal | AP | Nepali; Nepalese; Kathmandu
Netherlands | EU | Dutch; Holland; Amsterdam; The Hague
New Zealand | AP | New Zealander; Kiwi; Wellington
Nicaragua | AM | Nicaraguan; Nicaraguans; Managua
Niger | AF | Nigerien; Niamey
Nigeria | AF | Nigerian; Nigerians; Abuja; Lagos
North Korea | AP | North Korean; North Koreans; Pyongyang; DPRK
North Macedonia | EU | Macedonia; Macedonian; Skopje
Norway | EU | Norwegian; Norwegians; Oslo
Oman | ME | Omani; Muscat
Pakistan | AP | Pakistani; Pakistanis; Islamabad
Palau | AP | Palauan; Ngerulmud
Palestine | ME | Palestinian; Palestinians; Palestinian territories; Gaza; West Bank; Ramallah
Panama | AM | Panamanian; Panama City
Papua New Guinea | AP | Port Moresby
Paraguay | AM | Paraguayan; Asuncion; Asunción
Peru | AM | Peruvian; Peruvians; Lima
Philippines | AP | Philippine; Filipino; Filipinos; Manila
Poland | EU | Polish; Poles; Warsaw
Portugal | EU | Portuguese; Lisbon
Qatar | ME | Qatari; Qataris; Doha
Romania | EU | Romanian; Romanians; Bucharest
Russia | EU | Russian; Russians; Russian Federation; Moscow; Kremlin
Rwanda | AF | Rwandan; Rwandans; Kigali
Saint Kitts and Nevis | AM | Basseterre
Saint Lucia | AM | Saint Lucian; Castries
Saint Vincent and the Grenadines | AM | Kingstown
Samoa | AP | Samoan; Apia
San Marino | EU | Sammarinese
Sao Tome and Principe | AF | São Tomé and Príncipe; Sao Tome
Saudi Arabia | ME | Saudi; Saudis; Riyadh
Senegal | AF | Senegalese; Dakar
Serbia | EU | Serbian; Serbians; Serb; Serbs; Belgrade
Seychelles | AF | Seychellois
Sierra Leone | AF | Sierra Leonean; Freetown
Singapore | AP | Singaporean; Singaporeans
Slovakia | EU | Slovak; Slovaks; Bratislava
Slovenia | EU | Slovenian; Slovene; Ljubljana
Solomon Islands | AP | Honiara
Somalia | AF | Somali; Somalis; Mogadishu
South Africa | AF | South African; South Africans; Pretoria; Johannesburg; Cape Town
South Korea | AP | South Korean; South Koreans; Seoul; Republic of Korea
South Sudan | AF | South Sudanese; Juba
Spain | EU | Spanish; Spaniards; Madrid
Sri Lanka | AP | Sri Lankan; Sri Lankans; Colombo
Sudan | ME | Sudanese; Khartoum
Suriname | AM | Surinamese; Paramaribo
Sweden | EU | Swedish; Swedes; Stockholm
Switzerland | EU | Swiss; Bern; Geneva
Syria | ME | Syrian; Syrians; Damascus
Tajikistan | AP | Tajik; Tajiks; Dushanbe
Tanzania | AF | Tanzanian; Tanzanians; Dodoma; Dar es Salaam
Thailand | AP | Thai; Bangkok
Timor-Leste | AP | East Timor; Timorese; Dili
Togo | AF | Togolese; Lome; Lomé
Tonga | AP | Tongan; Nuku'alofa
Trinidad and Tobago | AM | Trinidadian; Port of Spain
Tunisia | ME | Tunisian; Tunisians; Tunis
Turkey | ME | Türkiye; Turkiye; Turkish; Turks; Ankara
Turkmenistan | AP | Turkmen; Ashgabat
Tuvalu | AP | Tuvaluan; Funafuti
Uganda | AF | Ugandan; Ugandans; Kampala
Ukraine | EU | Ukrainian; Ukrainians; Kyiv; Kiev
United Arab Emirates | ME | UAE; Emirati; Emiratis; Abu Dhabi; Dubai
United Kingdom | EU | UK; U.K.; Britain; Great Britain; British; Britons; London; Downing Street
United States | AM | US; U.S.; USA; U.S.A.; United States of America; America; Washington
United States | AM | American; Americans; White House; Pentagon
Uruguay | AM | Uruguayan; Uruguayans; Montevideo
Uzbekistan | AP | Uzbek; Uzbeks; Tashkent
Vanuatu | AP | Ni-Vanuatu; Port Vila
Venezuela | AM | Venezuelan; Venezuelans; Caracas
Vietnam | AP | Viet Nam; Vietnamese; Hanoi
Yemen | ME | Yemeni; Yemenis; Sanaa; Sana'a
Zambia | AF | Zambian; Zambians; Lusaka
Zimbabwe | AF | Zimbabwean; Zimbabweans; Harare
Taiwan | AP | Taiwanese; Taipei
Western Sahara | ME | Sahrawi; Laayoune
Hong Kong | AP |
"""


def _parse(table: str) -> tuple[dict[str, Region], dict[str, str]]:
    regions: dict[str, Region] = {}
    aliases: dict[str, str] = {}
    for line in table.strip().splitlines():
        name, code, rest = (part.strip() for part in line.split("|"))
        regions[name] = _CODES[code]
        aliases[name] = name
        for alias in rest.split(";"):
            if alias.strip():
                aliases[alias.strip()] = name
    return regions, aliases


#: canonical country name -> region
COUNTRIES: dict[str, Region]
_ALIASES: dict[str, str]  # any spelling (canonical names included) -> canonical name
COUNTRIES, _ALIASES = _parse(_TABLE)
_FOLDED = {alias.casefold(): name for alias, name in _ALIASES.items()}


def canonical_country(name: str) -> str | None:
    """The canonical name of a country name, alias or demonym (any case), else ``None``."""
    key = " ".join(name.split()).strip(" .,;:'\u2019").casefold()
    key = key.removeprefix("the ")
    if key in _FOLDED:
        return _FOLDED[key]
    for suffix in ("'s", "\u2019s"):  # "Iran's"
        if key.endswith(suffix) and key[: -len(suffix)] in _FOLDED:
            return _FOLDED[key[: -len(suffix)]]
    return None


def spellings() -> list[str]:
    """Every spelling the table knows: names, aliases, demonyms and capitals."""
    return list(_ALIASES)


def region_for_country(name: str) -> Region | None:
    """The brief's region of a country given by name, alias, demonym or capital."""
    canonical = canonical_country(name)
    return COUNTRIES[canonical] if canonical else None


#: Names that contain a country's spelling but are not the country: matched first, ignored.
_NOT_COUNTRIES = (
    "Latin America", "South America", "North America", "Central America", "New Mexico",
    "Washington Post", "Washington state", "Washington State", "New Guinea", "Indian Ocean",
    "American Samoa",
)  # fmt: skip


#: a run of word characters where no word character precedes it (a word's start)
_WORD_RUN = re.compile(r"(?<!\w)\w+")


@lru_cache(maxsize=1)
def _by_first_word() -> tuple[re.Pattern[str], dict[str, list[str]]]:
    """Every spelling (and every name to ignore), grouped by its first run of word
    characters, longest first inside a group; and a pattern for the words that start
    with a character some spelling starts with (a small character class: cheap to
    compile, and it skips the words no spelling can start at)."""
    groups: dict[str, list[str]] = {}
    for spelling in sorted([*_ALIASES, *_NOT_COUNTRIES], key=len, reverse=True):
        first = _WORD_RUN.match(spelling)
        if first is None:  # every spelling starts with a letter (a test holds it)
            raise ValueError(f"spelling {spelling!r} does not start with a word character")
        groups.setdefault(first.group(), []).append(spelling)
    firsts = "".join(sorted({re.escape(word[0]) for word in groups}))
    return re.compile(rf"(?<!\w)[{firsts}]\w*"), groups


#: characters of text scanned word by word before the one compiled pattern pays off
_SCAN_BEFORE_COMPILING = 300_000
_scanned = 0


def _spans(text: str) -> list[tuple[int, int, str]]:
    r"""Where ``text`` names a spelling (or a name to ignore) as a whole word:
    ``(start, stop, spelling)``, left to right, not overlapping -- exactly what
    ``re.finditer`` gives with ``(?<!\w)(?:longest|...|shortest)(?!\w)`` over every
    spelling (a test holds both ways to it).

    Compiling that alternation of about 750 spellings takes 10-20 ms, a noticeable part
    of ``briefing summarize FILE``'s start-up, while a whole brief scans a megabyte of
    text, where the compiled pattern is 2x faster. So the first
    :data:`_SCAN_BEFORE_COMPILING` characters of a process are scanned word by word
    (:func:`_scan_words`), the rest with the compiled pattern (:func:`_pattern`)."""
    global _scanned
    if _scanned < _SCAN_BEFORE_COMPILING:
        _scanned += len(text)
        return _scan_words(text)
    return [(m.start(), m.end(), m.group()) for m in _pattern().finditer(text)]


def _scan_words(text: str) -> list[tuple[int, int, str]]:
    """:func:`_spans` without a big pattern: a spelling can only start where a word
    starts, and only the spellings whose first word is that word are tried there,
    longest first."""
    words, groups = _by_first_word()
    found: list[tuple[int, int, str]] = []
    end = 0
    size = len(text)
    for word in words.finditer(text):
        start = word.start()
        if start < end:
            continue  # inside the last match
        for spelling in groups.get(word.group(), ()):
            stop = start + len(spelling)
            if text.startswith(spelling, start) and not (
                stop < size and (text[stop].isalnum() or text[stop] == "_")
            ):
                found.append((start, stop, spelling))
                end = stop
                break
    return found


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    r"""Every spelling as a whole word, longest first.

    The same as ``(?<!\w)(?:longest|...|shortest)(?!\w)`` over all spellings, written
    so that ``re`` scans fast: a position is only tried when its character starts some
    spelling, and only the spellings starting with it are tried there (grouped by first
    character, longest first inside a group: at one position only one group can match,
    so the first spelling that matches is the one the flat alternation would take)."""
    spellings = sorted([*_ALIASES, *_NOT_COUNTRIES], key=len, reverse=True)  # longest first
    by_first: dict[str, list[str]] = {}
    for spelling in spellings:
        by_first.setdefault(spelling[0], []).append(spelling[1:])
    alternation = "|".join(
        re.escape(first) + "(?:" + "|".join(re.escape(rest) for rest in group) + ")"
        for first, group in by_first.items()
    )
    firsts = "".join(re.escape(first) for first in by_first)
    return re.compile(rf"(?=[{firsts}])(?<!\w)(?:{alternation})(?!\w)")


def _matches(text: str) -> list[str]:
    return [_ALIASES[spelling] for _, _, spelling in _spans(text) if spelling in _ALIASES]


def country_mentions(text: str) -> Counter[str]:
    """How often each country is named in ``text`` (canonical names; "Iran-backed" counts)."""
    return Counter(_matches(text))


def countries_in_text(text: str) -> list[str]:
    """The countries ``text`` names, canonical names in order of first mention."""
    return list(dict.fromkeys(_matches(text)))


def region_counts(text: str) -> Counter[Region]:
    """Country mentions in ``text`` added up by region."""
    return counts_by_region(country_mentions(text))


def counts_by_region(mentions: Counter[str]) -> Counter[Region]:
    """Country mentions (as :func:`country_mentions` gives them) added up by region."""
    counts: Counter[Region] = Counter()
    for country, n in mentions.items():
        counts[COUNTRIES[country]] += n
    return counts


def dominant_region(text: str) -> Region | None:
    """The region whose countries ``text`` names most (ties: taxonomy order), else ``None``."""
    counts = region_counts(text)
    if not counts:
        return None
    order = list(Region)
    return max(counts, key=lambda region: (counts[region], -order.index(region)))


def focus_region(weighted_texts: Iterable[tuple[str, float]]) -> Region | None:
    """The region whose countries the texts name most, each mention counted with its
    text's weight (ties: taxonomy order); ``None`` when no text names a country."""
    scores: dict[Region, float] = {}
    for text, weight in weighted_texts:
        for region, n in region_counts(text).items():
            scores[region] = scores.get(region, 0.0) + n * weight
    if not scores:
        return None
    order = list(Region)
    return max(scores, key=lambda region: (scores[region], -order.index(region)))


_SHORT_NAMES = {
    "middle_east": Region.MIDDLE_EAST, "mena": Region.MIDDLE_EAST, "me": Region.MIDDLE_EAST,
    "europe": Region.EUROPE, "eu": Region.EUROPE,
    "africa": Region.AFRICA, "sub_saharan_africa": Region.AFRICA,
    "asia": Region.ASIA_PACIFIC, "asia_pacific": Region.ASIA_PACIFIC, "apac": Region.ASIA_PACIFIC,
    "americas": Region.AMERICAS, "america": Region.AMERICAS,
    "global": Region.GLOBAL, "world": Region.GLOBAL,
}  # fmt: skip


def parse_region(name: str) -> Region | None:
    """A region from its full name or a short name (``middle_east``, ``Asia-Pacific``...)."""
    key = re.sub(r"[^a-z]+", "_", name.casefold().replace("&", "and")).strip("_")
    for region in Region:
        if key == re.sub(r"[^a-z]+", "_", region.value.casefold().replace("&", "and")).strip("_"):
            return region
    return _SHORT_NAMES.get(key)
