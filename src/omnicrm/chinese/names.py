"""Chinese personal names: surname frequencies (incl. compound surnames), given-name
characters, the very common full names, sound-alike characters and pinyin forms."""

from __future__ import annotations

from functools import lru_cache

# Share of the population (%) per surname, after the 2020 census rankings; the rest of the mass
# is spread over the tail of this list by the generator's normalisation.
SURNAME_FREQ = {
    "王": 7.1, "李": 7.0, "张": 6.7, "刘": 5.4, "陈": 4.6, "杨": 3.1, "黄": 2.3, "赵": 2.0,
    "吴": 2.0, "周": 1.9, "徐": 1.4, "孙": 1.3, "马": 1.2, "朱": 1.1, "胡": 1.1, "郭": 1.1,
    "何": 1.0, "林": 0.9, "高": 0.9, "罗": 0.9, "郑": 0.8, "梁": 0.7, "谢": 0.6, "宋": 0.6,
    "唐": 0.6, "许": 0.5, "韩": 0.5, "冯": 0.5, "邓": 0.5, "曹": 0.5, "彭": 0.5, "曾": 0.5,
    "肖": 0.4, "田": 0.4, "董": 0.4, "袁": 0.4, "潘": 0.4, "于": 0.4, "蒋": 0.4, "蔡": 0.4,
    "余": 0.4, "杜": 0.4, "叶": 0.4, "程": 0.4, "苏": 0.3, "魏": 0.3, "吕": 0.3, "丁": 0.3,
    "任": 0.3, "沈": 0.3, "姚": 0.3, "卢": 0.3, "姜": 0.3, "崔": 0.3, "钟": 0.3, "谭": 0.3,
    "陆": 0.3, "汪": 0.3, "范": 0.3, "金": 0.3, "石": 0.3, "廖": 0.3, "贾": 0.3, "夏": 0.2,
    "韦": 0.2, "付": 0.2, "方": 0.2, "白": 0.2, "邹": 0.2, "孟": 0.2, "熊": 0.2, "秦": 0.2,
    "邱": 0.2, "江": 0.2, "尹": 0.2, "薛": 0.2, "闫": 0.2, "段": 0.2, "雷": 0.2, "侯": 0.2,
    "龙": 0.2, "史": 0.2, "陶": 0.1, "黎": 0.1, "贺": 0.1, "顾": 0.1, "毛": 0.1, "郝": 0.1,
    "龚": 0.1, "邵": 0.1, "万": 0.1, "钱": 0.1, "严": 0.1, "覃": 0.1, "武": 0.1, "戴": 0.1,
    "莫": 0.1, "孔": 0.1, "向": 0.1, "汤": 0.1, "章": 0.1,
    # compound surnames
    "欧阳": 0.05, "司马": 0.01, "上官": 0.01, "诸葛": 0.01, "司徒": 0.01, "东方": 0.005,
    "皇甫": 0.005, "夏侯": 0.003, "令狐": 0.003, "慕容": 0.003, "尉迟": 0.002, "公孙": 0.002,
}
# The long tail: ~115 less common surnames at ~0.12% each, so the top surnames keep their census
# share (王 ~7%) instead of being inflated by normalising a list that covers only 76%.
SURNAME_TAIL = ("阎乔赖常温庞樊殷施牛洪季俞颜柳葛伍申毕聂焦邢岳齐梅康鲁柴耿关华宁祝兰翟安欧车郁童包纪"  # noqa: E501
                "卜单杭倪强涂谷储甘宫鞠祁蒙戚苗喻房左霍舒解应巴柏乐骆成辛景宗滕窦管於庄盛凌米连明席尤"
                "奚卞刁冉隋靳阮路符蓝伏裴麻屈桂盖冀邬郎劳湛那甄鲍蔺詹佟仲臧费缪")
SURNAME_FREQ.update({s: 0.12 for s in SURNAME_TAIL if s not in SURNAME_FREQ})
COMPOUND_SURNAMES = tuple(s for s in SURNAME_FREQ if len(s) == 2)

GIVEN_CHARS = {
    "M": "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林阳建国志文东海峰亮成晨博然轩"
         "子睿泽洋毅",
    "F": "芳娜敏静丽艳娟霞秀英玲桂兰燕萍红梅琳雪婷慧颖倩洁丹莉晶欣怡佳悦琪萱涵妍雨思梦璐瑶薇晓月蓉玉",  # noqa: E501
}

# The most frequent full names in China; thousands of different people share each of them.
COMMON_FULL_NAMES = {
    "M": ["张伟", "王伟", "李伟", "刘伟", "李强", "王磊", "李军", "刘洋", "王勇", "张勇", "李杰",
          "张磊", "王强", "王军", "张杰", "张涛", "王涛", "李明", "王超", "李勇", "刘杰", "张军",
          "张强", "王平", "王刚", "王杰"],
    "F": ["王芳", "王秀英", "李秀英", "李娜", "张秀英", "张敏", "李静", "张丽", "王静", "王丽",
          "张静", "李敏", "王敏", "王艳", "李娟", "张艳", "李艳", "王娟", "王秀兰", "李霞", "刘敏",
          "李丽", "李桂英", "刘芳"],
}

# Characters common in names, used to find sound-alike (homophone) substitutes.
_HOMOPHONE_POOL = (
    "章彰张樟汪旺望网黎礼理里力立丽利维薇玮唯围卫位魏为敏民明名鸣铭静靖敬镜晶精经京菁芳方房放娜纳"
    "那强墙蔷伟磊蕾垒雷军君均钧俊峻骏勇永涌泳咏杰洁捷婕杨洋阳扬羊刘流留柳浏陈晨臣辰琛王黄皇凰煌周"
    "州洲舟吴武伍午五赵照兆召昭孙徐许旭序叙胡湖虎户朱珠竹诸林琳霖临麟淋高罗萝洛骆郑正政证梁良凉亮"
    "谢宋送颂唐堂棠塘韩寒函涵含汉冯峰锋丰枫风邓登曹彭朋鹏蓬曾增肖晓小筱萧潇田甜董栋东冬袁元园原源"
    "圆潘攀于余鱼宇雨语玉羽蒋江姜将蔡菜才彩杜度渡叶业程成诚城承橙苏素魏吕旅侣丁婷庭亭任仁沈深申"
    "慧惠汇卉秀绣修艳燕雁彦颜娟涓鹃霞侠峡夏玲灵铃龄菱凌英鹰樱莹盈迎颖桂贵兰蓝岚澜萍平坪苹红宏洪鸿"
    "虹梅美玫雪薛倩茜佳家嘉悦月跃越岳琪奇齐琦淇萱宣轩璇妍研思丝斯司梦蒙孟璐露路鹿瑶遥尧姚蓉荣容融"
    "超朝潮刚钢纲辉晖徽华桦飞非菲鑫欣新心馨波博斌彬宾滨浩豪昊皓凯恺铠健建剑帆凡帅旭宁凝龙隆国志智"
    "致海亮晨然睿瑞泽则毅义艺忆怡宜仪依子紫梓文雯闻军"
)


def _toneless(ch: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(ch, style=Style.NORMAL)[0]


@lru_cache(maxsize=1)
def homophones() -> dict[str, list[str]]:
    """For each name character: other common characters with the same toneless pinyin
    (张 -> 章 彰 樟). Characters without one are absent."""
    chars = set(_HOMOPHONE_POOL) | set("".join(SURNAME_FREQ)) | set("".join(GIVEN_CHARS.values()))
    chars = {c for c in chars if len(c) == 1}
    by_sound: dict[str, list[str]] = {}
    for c in sorted(chars):
        by_sound.setdefault(_toneless(c), []).append(c)
    return {c: [o for o in group if o != c] for group in by_sound.values() if len(group) > 1
            for c in group}


def split_name(name: str) -> tuple[str, str]:
    """Split a hanzi full name into (surname, given name), recognising compound surnames."""
    name = name.strip()
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


def pinyin_parts(name: str) -> tuple[str, str]:
    """('Zhang', 'Xiuying') for 张秀英: surname and given name in pinyin, capitalised."""
    from pypinyin import Style, lazy_pinyin

    surname, given = split_name(name)
    sur = "".join(lazy_pinyin(surname, style=Style.NORMAL)).capitalize()
    giv = "".join(lazy_pinyin(given, style=Style.NORMAL)).capitalize()
    return sur, giv


@lru_cache(maxsize=1)
def _gendered_chars() -> tuple[frozenset, frozenset]:
    male, female = set(GIVEN_CHARS["M"]), set(GIVEN_CHARS["F"])
    for g, names in COMMON_FULL_NAMES.items():
        for n in names:
            (male if g == "M" else female).update(split_name(n)[1])
    return frozenset(male - female), frozenset(female - male)


def gender_from_given_name(given: str | None) -> str | None:
    """'M' or 'F' when the given-name characters lean clearly one way (强, 军 vs 芳, 娟),
    else None. Chinese given names are strongly gendered; this fills the gender of channels
    that do not record one (Tmall receivers, web accounts) so a husband's card and his wife's
    WeChat on the family mobile do not look alike."""
    if not isinstance(given, str) or not given:
        return None
    male, female = _gendered_chars()
    score = sum((c in male) - (c in female) for c in given)
    return "M" if score > 0 else "F" if score < 0 else None
