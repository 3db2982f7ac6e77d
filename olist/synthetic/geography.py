"""Brazil as the generator draws it: 27 states, their zip code ranges and a few real cities each.

Zip code prefixes (the first five CEP digits) are allotted to states in ranges (São Paulo from
01000, so many prefixes keep a leading zero). Within a state the range is split into contiguous
blocks, one per city, the capital first and largest. Coordinates are city centres; the generator
scatters points around them. Shares are the states' parts of customers and sellers in the real
Olist data (rounded); they only shape the synthetic mix.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    name: str  # as Olist writes it: lower case, no accents
    accented: str  # as people type it; geolocation and seller rows sometimes carry this form
    lat: float
    lng: float


@dataclass(frozen=True)
class State:
    code: str
    customer_share: float
    seller_share: float
    zip_ranges: tuple[tuple[int, int], ...]  # inclusive 5-digit prefix ranges
    cities: tuple[City, ...]  # the capital first

    @property
    def zip_count(self) -> int:
        return sum(high - low + 1 for low, high in self.zip_ranges)


def _city(name: str, lat: float, lng: float, accented: str | None = None) -> City:
    return City(name, accented or name, lat, lng)


STATES: tuple[State, ...] = (
    State(
        "SP",
        0.4253,
        0.5974,
        ((1000, 19999),),
        (
            _city("sao paulo", -23.55, -46.63, "são paulo"),
            _city("guarulhos", -23.46, -46.53),
            _city("campinas", -22.91, -47.06),
            _city("sao bernardo do campo", -23.69, -46.56, "são bernardo do campo"),
            _city("santo andre", -23.66, -46.53, "santo andré"),
            _city("osasco", -23.53, -46.79),
            _city("ribeirao preto", -21.18, -47.81, "ribeirão preto"),
            _city("sorocaba", -23.50, -47.46),
            _city("santos", -23.96, -46.33),
            _city("sao jose dos campos", -23.18, -45.89, "são josé dos campos"),
        ),
    ),
    State(
        "RJ",
        0.1262,
        0.0553,
        ((20000, 28999),),
        (
            _city("rio de janeiro", -22.91, -43.17),
            _city("niteroi", -22.88, -43.10, "niterói"),
            _city("sao goncalo", -22.83, -43.05, "são gonçalo"),
            _city("duque de caxias", -22.79, -43.31),
            _city("nova iguacu", -22.76, -43.45, "nova iguaçu"),
            _city("petropolis", -22.51, -43.18, "petrópolis"),
        ),
    ),
    State(
        "MG",
        0.1176,
        0.0788,
        ((30000, 39999),),
        (
            _city("belo horizonte", -19.92, -43.94),
            _city("uberlandia", -18.92, -48.28, "uberlândia"),
            _city("contagem", -19.93, -44.05),
            _city("juiz de fora", -21.76, -43.35),
            _city("betim", -19.97, -44.20),
            _city("montes claros", -16.73, -43.86),
        ),
    ),
    State(
        "RS",
        0.0528,
        0.0417,
        ((90000, 99999),),
        (
            _city("porto alegre", -30.03, -51.23),
            _city("caxias do sul", -29.17, -51.18),
            _city("pelotas", -31.77, -52.34),
            _city("canoas", -29.92, -51.18),
            _city("santa maria", -29.68, -53.81),
        ),
    ),
    State(
        "PR",
        0.0510,
        0.1128,
        ((80000, 87999),),
        (
            _city("curitiba", -25.43, -49.27),
            _city("londrina", -23.31, -51.16),
            _city("maringa", -23.42, -51.94, "maringá"),
            _city("ponta grossa", -25.09, -50.16),
            _city("cascavel", -24.96, -53.46),
        ),
    ),
    State(
        "SC",
        0.0354,
        0.0614,
        ((88000, 89999),),
        (
            _city("florianopolis", -27.60, -48.55, "florianópolis"),
            _city("joinville", -26.30, -48.85),
            _city("blumenau", -26.92, -49.07),
            _city("sao jose", -27.61, -48.63, "são josé"),
        ),
    ),
    State(
        "BA",
        0.0332,
        0.0061,
        ((40000, 48999),),
        (
            _city("salvador", -12.97, -38.50),
            _city("feira de santana", -12.27, -38.97),
            _city("vitoria da conquista", -14.86, -40.84, "vitória da conquista"),
        ),
    ),
    State(
        "DF",
        0.0219,
        0.0097,
        ((70000, 72799), (73000, 73699)),
        (
            _city("brasilia", -15.79, -47.88, "brasília"),
            _city("taguatinga", -15.83, -48.06),
        ),
    ),
    State(
        "ES",
        0.0204,
        0.0074,
        ((29000, 29999),),
        (
            _city("vitoria", -20.32, -40.34, "vitória"),
            _city("vila velha", -20.33, -40.29),
            _city("serra", -20.13, -40.31),
            _city("cariacica", -20.26, -40.42),
        ),
    ),
    State(
        "GO",
        0.0204,
        0.0129,
        ((72800, 72999), (73700, 76799)),
        (
            _city("goiania", -16.69, -49.26, "goiânia"),
            _city("aparecida de goiania", -16.82, -49.24, "aparecida de goiânia"),
            _city("anapolis", -16.33, -48.95, "anápolis"),
        ),
    ),
    State(
        "PE",
        0.0176,
        0.0029,
        ((50000, 56999),),
        (
            _city("recife", -8.05, -34.88),
            _city("jaboatao dos guararapes", -8.11, -35.01, "jaboatão dos guararapes"),
            _city("olinda", -8.01, -34.86),
        ),
    ),
    State(
        "CE",
        0.0133,
        0.0042,
        ((60000, 63999),),
        (
            _city("fortaleza", -3.73, -38.52),
            _city("juazeiro do norte", -7.21, -39.31),
        ),
    ),
    State(
        "PA",
        0.0091,
        0.0003,
        ((66000, 68899),),
        (
            _city("belem", -1.46, -48.49, "belém"),
            _city("ananindeua", -1.37, -48.37),
            _city("santarem", -2.44, -54.71, "santarém"),
        ),
    ),
    State(
        "MT",
        0.0084,
        0.0013,
        ((78000, 78899),),
        (
            _city("cuiaba", -15.60, -56.10, "cuiabá"),
            _city("varzea grande", -15.65, -56.13, "várzea grande"),
            _city("rondonopolis", -16.47, -54.64, "rondonópolis"),
        ),
    ),
    State(
        "MA",
        0.0075,
        0.0003,
        ((65000, 65999),),
        (
            _city("sao luis", -2.53, -44.30, "são luís"),
            _city("imperatriz", -5.53, -47.49),
        ),
    ),
    State(
        "MS",
        0.0065,
        0.0016,
        ((79000, 79999),),
        (
            _city("campo grande", -20.46, -54.62),
            _city("dourados", -22.22, -54.81),
        ),
    ),
    State(
        "PB",
        0.0059,
        0.0019,
        ((58000, 58999),),
        (
            _city("joao pessoa", -7.12, -34.86, "joão pessoa"),
            _city("campina grande", -7.23, -35.88),
        ),
    ),
    State(
        "RN",
        0.0058,
        0.0016,
        ((59000, 59999),),
        (
            _city("natal", -5.79, -35.21),
            _city("mossoro", -5.19, -37.34, "mossoró"),
        ),
    ),
    State("AL", 0.0048, 0.0002, ((57000, 57999),), (_city("maceio", -9.67, -35.74, "maceió"),)),
    State("PI", 0.0044, 0.0003, ((64000, 64999),), (_city("teresina", -5.09, -42.80),)),
    State("SE", 0.0034, 0.0006, ((49000, 49999),), (_city("aracaju", -10.91, -37.07),)),
    State(
        "RO",
        0.0031,
        0.0006,
        ((76800, 76999),),
        (
            _city("porto velho", -8.76, -63.90),
            _city("ji-parana", -10.88, -61.95, "ji-paraná"),
        ),
    ),
    State(
        "TO",
        0.0028,
        0.0001,
        ((77000, 77999),),
        (
            _city("palmas", -10.18, -48.33),
            _city("araguaina", -7.19, -48.21, "araguaína"),
        ),
    ),
    State("AC", 0.0012, 0.0003, ((69900, 69999),), (_city("rio branco", -9.97, -67.81),)),
    State(
        "AM", 0.0012, 0.0003, ((69000, 69299), (69400, 69899)), (_city("manaus", -3.12, -60.02),)
    ),
    State("RR", 0.0005, 0.0001, ((69300, 69399),), (_city("boa vista", 2.82, -60.67),)),
    State("AP", 0.0005, 0.0001, ((68900, 68999),), (_city("macapa", 0.03, -51.07, "macapá"),)),
)
