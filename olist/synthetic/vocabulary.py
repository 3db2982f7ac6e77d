"""Words the generator writes: product categories and review texts.

Categories use the Olist naming style (Portuguese snake_case, translated in the translation file).
Weights are rough shares of products per category. Two categories have no English translation on
purpose, as in the real data, so the warehouse's fallback rule has something to do.
"""

from __future__ import annotations

# (Portuguese name, English name or None when the translation file lacks it, relative weight)
CATEGORIES: tuple[tuple[str, str | None, float], ...] = (
    ("cama_mesa_banho", "bed_bath_table", 3029),
    ("esporte_lazer", "sports_leisure", 2867),
    ("moveis_decoracao", "furniture_decor", 2657),
    ("beleza_saude", "health_beauty", 2444),
    ("utilidades_domesticas", "housewares", 2335),
    ("automotivo", "auto", 1900),
    ("informatica_acessorios", "computers_accessories", 1639),
    ("brinquedos", "toys", 1411),
    ("relogios_presentes", "watches_gifts", 1329),
    ("telefonia", "telephony", 1134),
    ("bebes", "baby", 919),
    ("perfumaria", "perfumery", 868),
    ("papelaria", "stationery", 849),
    ("ferramentas_jardim", "garden_tools", 753),
    ("pet_shop", "pet_shop", 719),
    ("eletronicos", "electronics", 517),
    ("eletrodomesticos", "home_appliances", 370),
    ("malas_acessorios", "luggage_accessories", 349),
    ("consoles_games", "consoles_games", 317),
    ("moveis_escritorio", "office_furniture", 309),
    ("instrumentos_musicais", "musical_instruments", 289),
    ("casa_construcao", "home_construction", 225),
    ("livros_interesse_geral", "books_general_interest", 216),
    ("fashion_calcados", "fashion_shoes", 173),
    ("climatizacao", "air_conditioning", 124),
    ("alimentos_bebidas", "food_drink", 104),
    ("audio", "audio", 58),
    ("artes", "art", 55),
    ("flores", "flowers", 14),
    ("portateis_cozinha_e_preparadores_de_alimentos", None, 10),
    ("pc_gamer", None, 3),
)

# Review texts by sentiment. Some contain commas, quotes or line breaks, as real reviews do; the
# CSV writer must quote them.
POSITIVE_TITLES = ("Recomendo", "Ótimo", "Super recomendo", "Excelente", "Muito bom", "Amei")
NEUTRAL_TITLES = ("Bom", "Razoável", "Ok", "Poderia ser melhor")
NEGATIVE_TITLES = ("Não recomendo", "Péssimo", "Não recebi", "Decepcionado", "Produto errado")

POSITIVE_MESSAGES = (
    "Produto muito bom, chegou antes do prazo.",
    "Recebi bem antes do prazo estipulado.",
    "Ótimo produto, recomendo!",
    "Entrega rápida e produto de qualidade.",
    "Chegou tudo certo, bem embalado.\r\nObrigado!",
    'Produto conforme o anúncio, "nota 10".',
    "Gostei muito, comprarei novamente",
    "Tudo certo",
    "Chegou no prazo",
    "Muito bom o produto",
    "Produto de ótima qualidade, entrega super rápida",
    "Loja confiável, recomendo",
    "Bem embalado e chegou rápido",
    "Satisfeito com a compra",
    "Perfeito",
    "Adorei o produto",
    "Entrega dentro do prazo",
    "Excelente vendedor, produto original.\r\nRecomendo a loja.",
)
NEUTRAL_MESSAGES = (
    "O produto é bom, mas a entrega demorou um pouco.",
    "Razoável, esperava mais pela foto.",
    "Chegou com a caixa amassada, mas o produto está ok.",
    "Cumpriu o prometido.",
    "Produto bom, mas o acabamento deixa a desejar",
    "Demorou mas chegou",
)
NEGATIVE_MESSAGES = (
    "Não recebi o produto até agora.",
    "Comprei dois itens e só recebi um.\r\nAguardo retorno.",
    "Produto veio com defeito, quero a troca.",
    "Muito atrasado, péssimo atendimento",
    'Veio diferente do anúncio, "falsificado".',
    "Ainda não recebi",
    "Produto não chegou e ninguém responde",
    "Recebi o produto errado",
    "Péssima qualidade",
)
