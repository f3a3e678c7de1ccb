"""Phrases the synthetic shop's customers write, per reason or review mood and language.

Kept apart from the generator because it is data: a handful of variants per reason in each of the
markets the product serves (English, Indonesian, Russian, Korean, Chinese).
"""

from __future__ import annotations

REASON_TEXTS: dict[str, dict[str, tuple[str, ...]]] = {
    "size_too_small": {
        "en": ("Too small, I usually wear this size", "Runs small, need one size up",
               "Tight around the shoulders"),
        "id": ("Ukurannya terlalu kecil", "Kekecilan, minta tukar satu ukuran lebih besar",
               "Sempit sekali"),
        "ru": ("Маломерит, нужен размер больше", "Слишком маленький размер", "Очень тесно"),
        "ko": ("사이즈가 너무 작아요", "작게 나왔어요 한 치수 크게 필요해요", "너무 꽉 껴요"),
        "zh": ("尺码太小了", "偏小，需要大一码", "穿着太紧"),
    },
    "size_too_large": {
        "en": ("Too big for me", "Runs large, need a smaller size", "Way too loose"),
        "id": ("Ukurannya terlalu besar", "Kebesaran, mau tukar ukuran lebih kecil",
               "Longgar sekali"),
        "ru": ("Большемерит", "Слишком большой размер", "Сидит мешковато"),
        "ko": ("사이즈가 너무 커요", "크게 나왔어요", "너무 헐렁해요"),
        "zh": ("尺码太大了", "偏大，需要小一码", "太宽松了"),
    },
    "defective": {
        "en": ("Stopped working after two days", "Arrived broken, does not turn on",
               "Seam came apart on first wear", "Defective, the zipper broke"),
        "id": ("Rusak setelah dua hari dipakai", "Barang cacat, tidak bisa menyala",
               "Jahitannya lepas", "Resletingnya rusak"),
        "ru": ("Сломался через два дня", "Брак, не включается", "Разошёлся шов",
               "Бракованная молния"),
        "ko": ("이틀 만에 고장났어요", "불량품이에요 전원이 안 켜져요", "박음질이 터졌어요",
               "지퍼가 고장났어요"),
        "zh": ("用了两天就坏了", "质量问题，开不了机", "线缝开了", "拉链坏了"),
    },
    "damaged_in_transit": {
        "en": ("Box was crushed and the item is damaged", "Arrived damaged"),
        "id": ("Paket penyok dan barang rusak", "Barang sampai dalam keadaan rusak"),
        "ru": ("Коробка помята, товар повреждён", "Пришёл повреждённым"),
        "ko": ("상자가 찌그러져서 제품이 파손됐어요", "배송 중 파손됐어요"),
        "zh": ("箱子压坏了，商品损坏", "运输途中损坏"),
    },
    "wrong_item": {
        "en": ("I received a different item", "Wrong colour sent"),
        "id": ("Barang yang dikirim salah", "Warnanya salah"),
        "ru": ("Прислали не тот товар", "Не тот цвет"),
        "ko": ("다른 상품이 왔어요", "색상이 잘못 왔어요"),
        "zh": ("发错货了", "颜色发错了"),
    },
    "not_as_described": {
        "en": ("Looks nothing like the photos", "Material is much cheaper than described"),
        "id": ("Tidak sesuai dengan foto", "Bahannya tidak sesuai deskripsi"),
        "ru": ("Не соответствует фото", "Материал хуже, чем в описании"),
        "ko": ("사진과 전혀 달라요", "설명과 소재가 달라요"),
        "zh": ("和图片完全不一样", "材质和描述不符"),
    },
    "changed_mind": {
        "en": ("Changed my mind", "Don't need it anymore", "Not my style after all"),
        "id": ("Berubah pikiran", "Sudah tidak perlu lagi", "Ternyata kurang cocok"),
        "ru": ("Передумал", "Больше не нужно", "Не мой стиль"),
        "ko": ("마음이 바뀌었어요", "더 이상 필요 없어요", "스타일이 안 맞아요"),
        "zh": ("不想要了", "用不上了", "不是我喜欢的风格"),
    },
    "arrived_late": {
        "en": ("Arrived too late for the event", "Delivery took far too long"),
        "id": ("Datang terlambat", "Pengiriman terlalu lama"),
        "ru": ("Доставили слишком поздно", "Доставка заняла слишком долго"),
        "ko": ("너무 늦게 도착했어요", "배송이 너무 오래 걸렸어요"),
        "zh": ("到得太晚了", "物流太慢"),
    },
    "better_price": {
        "en": ("Found it cheaper elsewhere", "Price dropped right after I bought it"),
        "id": ("Ada yang lebih murah di toko lain", "Harganya turun setelah saya beli"),
        "ru": ("Нашёл дешевле", "Цена упала после покупки"),
        "ko": ("다른 곳이 더 싸요", "사자마자 가격이 내려갔어요"),
        "zh": ("别家更便宜", "刚买就降价了"),
    },
}

REVIEW_TEXTS: dict[str, dict[str, tuple[str, ...]]] = {
    "positive": {
        "en": ("Great quality, fits perfectly", "Love it, would buy again", "Exactly as shown"),
        "id": ("Kualitasnya bagus, pas sekali", "Suka banget, mau beli lagi", "Sesuai gambar"),
        "ru": ("Отличное качество", "Очень доволен, куплю ещё", "Как на фото"),
        "ko": ("품질 좋고 딱 맞아요", "너무 좋아요 재구매 의사 있어요", "사진이랑 똑같아요"),
        "zh": ("质量很好，很合身", "很喜欢，会回购", "和图片一样"),
    },
    "neutral": {
        "en": ("It's okay for the price", "Decent, nothing special"),
        "id": ("Lumayan untuk harganya", "Biasa saja"),
        "ru": ("Нормально за свои деньги", "Ничего особенного"),
        "ko": ("가격 대비 괜찮아요", "그냥 그래요"),
        "zh": ("这个价格还行", "一般般"),
    },
    "negative": {
        "en": ("Disappointed, poor fit", "Not worth the money", "Returned it"),
        "id": ("Kecewa, tidak pas", "Tidak sebanding dengan harganya", "Saya kembalikan"),
        "ru": ("Разочарован, плохо сидит", "Не стоит своих денег", "Вернул"),
        "ko": ("실망했어요 핏이 안 맞아요", "돈이 아까워요", "반품했어요"),
        "zh": ("很失望，不合身", "不值这个价", "已退货"),
    },
    "defect": {
        "en": ("Broke within a week, poor quality", "Defective, fell apart quickly"),
        "id": ("Rusak dalam seminggu, kualitas jelek", "Cacat produksi, cepat rusak"),
        "ru": ("Сломалось за неделю, ужасное качество", "Брак, быстро развалилось"),
        "ko": ("일주일 만에 고장났어요 품질 최악", "불량이에요 금방 망가졌어요"),
        "zh": ("一周就坏了，质量很差", "有质量问题，很快就坏了"),
    },
}
