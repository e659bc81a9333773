"""The structured reading of an indicator row: 计算符号 · 数值 · 计量单位, from 三级指标 + 指标值.

Reading policy (forms.md, "What makes an indicator acceptable"):

* The reading always comes from the 指标值. A 三级指标 that holds the target itself
  (`开展宣讲10次以上，开展意识形态工作督查一次。`) next to a completion rate (`100%`) is the
  legitimate seed shape: it reads ＝ 100 % and is sure.
* `sure=False` (the engine asks the user to confirm) when the parser guessed:
  - the 三级指标 names a target in the value's own unit but with another number
    (`开展宣讲10次以上` + `12次`, `满意度90%以上` + `95%`);
  - the value is a percentage below 100 while the 三级指标 names a count (`完成学习12次` + `95%`:
    is the target 12 次 or 95 % of them?);
  - a bare number without unit (`12`), an unknown unit (`10幅`), a hedge (`约10次`, `10次左右`,
    `每月1次`), contradictory bounds (`不超过6万元以上`), a deadline with a day before the 28th
    or without 底/前 (`2021年12月完成`), `/` next to a real 三级指标.
* Deadlines are measurable: `2021年12月底前完成`, `12月底前`, `年底前` read ≤ 12 月 (comparator LE,
  the month as number, unit `月`); the year stays in the user's text, which is what the seed-style
  table prints. Durations keep their unit: `12个月内` reads ≤ 12 个月, `30天内` ≤ 30 天.
  Quarters and half years are deadlines too (`第三季度末前` ≤ 9 月, `上半年` ≤ 6 月).
* Units may be rates or per-unit amounts, kept whole (`≤420元/亩`, `≥2次/月`, `元/人·月`), and
  counts take the large-number prefixes 万/亿 (`万吨`, `万人次`, `万户`): all sure readings.
* A change against last year (`较上年下降3%`, `同比增长5%以上`, `比上年提高2个百分点`) reads as
  its change (＝ 3 %, ≥ 5 %, ＝ 2 个百分点); the words before it stay in the user's text.
* The 2023 columns (指标值 · 计量单位) never lose the typed text: see `split_for_2023`.
* Grades 优/良/中/差 (`良好` → 良, `优秀` → 优, `一般` → 中, `较差` → 差) are 定性 with a grade;
  `良好及以上` adds comparator ≥. Other words and sentences are 定性 without a grade.
* `/` in both columns, `无直接经济效益`, `不适用`, `不涉及` read 不适用.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from dialogs.parsing.amount import plain_decimal
from dialogs.parsing.text import normalize_width
from dialogs.values import Comparator, Grade, Nature, Reading, format_decimal

GE, GT, EQ, LT, LE = Comparator.GE, Comparator.GT, Comparator.EQ, Comparator.LT, Comparator.LE

PERCENT_UNITS = ("%", "‰", "个百分点", "百分点")
TIME_UNITS = (
    "个月", "月", "年", "天", "日", "工作日", "个工作日", "小时", "个小时", "分钟", "周", "季度",
    "个季度",
)
MONEY_UNITS = ("亿元", "万元", "千元", "元")
# Counts and measures; each also takes the large-number prefixes 万 and 亿 (`万吨`, `万户`).
_MEASURE_UNITS = (
    "次", "个", "人次", "家次", "户次", "场次", "篇次", "期次", "篇", "场", "期", "项",
    "条", "家", "人", "户", "份", "批", "件", "所", "分", "公里", "千米", "米", "平方米",
    "平方公里", "立方米", "亩", "公顷", "吨", "千克", "公斤", "册", "本", "部", "台", "套", "座",
    "处", "名", "位", "首", "幅", "集", "页", "课时", "学时", "个点", "个村", "个社区", "栏目",
    "档", "类", "种", "块", "张", "盏", "辆", "期刊", "届", "轮", "班", "株", "棵", "头", "只",
    "床", "间", "栋", "宗", "笔", "单", "册次", "车次", "架次", "千瓦", "千瓦时", "度",
)
_MAGNITUDES = ("万", "亿")
# 计量单位 accepted after a number, with or without a space (`95 %`, `10 次`).
UNITS: tuple[str, ...] = tuple(
    dict.fromkeys(
        (
            *PERCENT_UNITS,
            *TIME_UNITS,
            *MONEY_UNITS,
            *_MEASURE_UNITS,
            *(magnitude + unit for magnitude in _MAGNITUDES for unit in _MEASURE_UNITS),
        )
    )
)
# What a rate or per-unit amount is counted per (`元/亩`, `次/月`, `元/人·月`).
_PER_UNITS: tuple[str, ...] = tuple(
    dict.fromkeys(
        (*UNITS, "人", "户", "年", "月", "日", "天", "周", "季度", "学期", "学年", "村", "校",
         "生", "车", "船", "平方米", "立方米", "标准亩")
    )
)
_PER_DOT = "·•・‧∙"

_PREFIXES: dict[str, Comparator] = {
    "≥": GE, ">=": GE, "≧": GE, "=>": GE, "⩾": GE, "大于或等于": GE, "大于等于": GE,
    "不低于": GE, "不少于": GE, "不小于": GE, "至少": GE, "最少": GE, "最低": GE, "达到": GE,
    "达": GE, ">": GT, "超过": GT, "高于": GT, "大于": GT, "多于": GT,
    "≤": LE, "<=": LE, "≦": LE, "=<": LE, "⩽": LE, "小于或等于": LE, "小于等于": LE,
    "不超过": LE, "不高于": LE, "不大于": LE, "不多于": LE, "最多": LE, "至多": LE, "最高": LE,
    "控制在": LE, "<": LT, "低于": LT, "小于": LT, "少于": LT, "=": EQ, "==": EQ, "等于": EQ,
}
_SUFFIXES: dict[str, Comparator] = {
    "以上": GE, "及以上": GE, "或以上": GE, "(含)以上": GE, "以上(含)": GE, "及其以上": GE,
    "以下": LE, "及以下": LE, "或以下": LE, "(含)以下": LE, "以内": LE, "之内": LE, "内": LE,
}
_SURE_LEADS = ("完成", "实现", "开展", "举办", "组织", "累计", "共计", "合计", "共", "全年", "年度",
               "在")
_UNSURE_LEADS = ("约", "大约", "大概", "每年", "每月", "每周", "每季度", "每天")
_TAILS = {"完成": True, "达标": True, "左右": False, "上下": False}


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_ARABIC = r"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?"
_HAN_NUMBER = r"[零〇一二两三四五六七八九十百千]+"
_NUMBER = rf"{_ARABIC}|{_HAN_NUMBER}"
# A unit, possibly per another (`元/亩`, `万元/公里`, `次/月`, `元/人·月`).
_UNIT = (
    rf"(?:{_alternation(UNITS)})"
    rf"(?:\s*/\s*(?:{_alternation(_PER_UNITS)})(?:[{_PER_DOT}](?:{_alternation(_PER_UNITS)}))?)?"
)
_QUANTITY = re.compile(
    rf"(?P<lead>(?:(?:{_alternation(_SURE_LEADS + _UNSURE_LEADS)})\s*)*)"
    rf"(?P<pre>{_alternation(_PREFIXES)})?\s*"
    rf"(?:百分之(?P<pct>{_NUMBER})|(?P<num>{_NUMBER})\s*(?P<unit>{_UNIT})?)\s*"
    rf"(?P<suf>{_alternation(_SUFFIXES)})?\s*(?P<tail>{_alternation(_TAILS)})?"
)
# An arabic number followed by a unit not in UNITS (`10幅` is in, `10帧` is not): unsure.
# Words with time or bound markers (前 内 底 以 …) are not taken for a unit.
_UNKNOWN_UNIT = re.compile(
    rf"(?P<pre>{_alternation(_PREFIXES)})?\s*(?P<num>{_ARABIC})\s*"
    r"(?P<unit>[^\W\d_a-zA-Z前后内外底末以之及或]{1,3}?)"
    rf"\s*(?P<suf>{_alternation(_SUFFIXES)})?"
)
_MONTH = r"[0-9]{1,2}|十[一二]?|[一二三四五六七八九]"
_DEADLINE_VERBS = ("完成", "结束", "办结", "到位", "完工", "交付", "上线", "验收", "实施完毕",
                   "全部完成", "完成验收", "前完成")
_DEADLINES = (
    re.compile(
        rf"(?:[在于]\s*)?(?:(?P<y>[0-9]{{4}})\s*年\s*)?(?P<m>{_MONTH})\s*月\s*"
        r"(?:(?P<d>[0-9]{1,2})\s*[日号]\s*)?(?P<mark>份|底|末|中旬|上旬|下旬)?\s*"
        r"(?P<before>之前|以前|前|止|以内|内)?\s*(?P<tail>[\u4e00-\u9fff]{0,6})"
    ),
    re.compile(
        r"(?:[在于]\s*)?(?:(?P<y>[0-9]{4})\s*年\s*)?(?P<mark>年底|年末|年终|年内|底|末)\s*"
        r"(?P<before>之前|以前|前|止)?\s*(?P<tail>[\u4e00-\u9fff]{0,6})"
    ),
    re.compile(
        r"(?:[在于]\s*)?(?P<y>[0-9]{4})\s*[.\-/]\s*(?P<m>[0-9]{1,2})(?:\s*[.\-/]\s*(?P<d>[0-9]{1,2}))?"
        r"\s*(?P<before>之前|以前|前|止)\s*(?P<tail>[\u4e00-\u9fff]{0,6})"
    ),
    # A quarter or half year: `第三季度末前`, `2024年上半年前完成`.
    re.compile(
        r"(?:[在于]\s*)?(?:(?P<y>[0-9]{4})\s*年\s*)?"
        r"(?:第?\s*(?P<q>[一二三四1-4])\s*季度|(?P<h>上半年|下半年))\s*(?P<mark>末|底)?\s*"
        r"(?P<before>之前|以前|前|止|内)?\s*(?P<tail>[\u4e00-\u9fff]{0,6})"
    ),
)
_GRADES = {
    "优": Grade.EXCELLENT, "优秀": Grade.EXCELLENT, "优等": Grade.EXCELLENT,
    "良": Grade.GOOD, "良好": Grade.GOOD, "中": Grade.FAIR, "中等": Grade.FAIR, "一般": Grade.FAIR,
    "差": Grade.POOR, "较差": Grade.POOR,
}
_GRADE = re.compile(rf"(?P<grade>{_alternation(_GRADES)})(?:等级|等次)?(?P<suf>及以上|以上)?")
_NOT_APPLICABLE = re.compile(
    r"(?:无|没有)(?:直接)?(?:的)?(?:经济|社会|生态)?效益|不适用|本项不适用|不涉及|无此项|无此指标"
)
_SLASHES = re.compile(r"[/\\／]+")
_TRIM = " \t\n。.，,；;！!、"
_HAN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
               "七": 7, "八": 8, "九": 9}
_HAN_POWERS = {"十": 10, "百": 100, "千": 1000}


def han_number(text: str) -> int | None:
    """一 → 1, 两 → 2, 十二 → 12, 二十 → 20, 一百零五 → 105, 二〇二一 → 2021; else None."""
    if text and all(char in _HAN_DIGITS for char in text):
        value = 0
        for char in text:
            value = value * 10 + _HAN_DIGITS[char]
        return value
    total, current, last_power = 0, None, 10_000
    for char in text:
        if char in _HAN_DIGITS:
            if current is not None and _HAN_DIGITS[char] != 0:
                return None
            current = _HAN_DIGITS[char] if _HAN_DIGITS[char] else None
        elif char in _HAN_POWERS:
            power = _HAN_POWERS[char]
            if power >= last_power:
                return None
            total += (1 if current is None else current) * power
            current, last_power = None, power
        else:
            return None
    return total + (current or 0) if text else None


def _unit(text: str) -> str:
    """A matched unit as stored: no spaces, one middle dot (`元 / 人・月` → `元/人·月`)."""
    squeezed = "".join(text.split())
    return re.sub(f"[{_PER_DOT}]", "·", squeezed)


def _number(text: str) -> Decimal | None:
    if text[0].isascii():
        return plain_decimal(Decimal(text.replace(",", "")))
    value = han_number(text)
    return None if value is None else Decimal(value)


def tidy(text: str) -> str:
    """Width-normalised, trimmed of spaces and sentence punctuation at both ends."""
    return normalize_width(text).strip(_TRIM)


def is_placeholder_slash(text: str) -> bool:
    return bool(_SLASHES.fullmatch(tidy(text)))


def _read_quantity(value: str) -> Reading | None:
    match = _QUANTITY.fullmatch(value)
    if match is None:
        return None
    number = _number(match["pct"] or match["num"])
    if number is None:
        return None
    unit = "%" if match["pct"] else (_unit(match["unit"]) if match["unit"] else None)
    sure = not any(word in match["lead"] for word in _UNSURE_LEADS)
    if match["tail"]:
        sure = sure and _TAILS[match["tail"]]
    pre = _PREFIXES.get(match["pre"] or "")
    suf = _SUFFIXES.get(match["suf"] or "")
    if pre is not None and suf is not None and pre is not suf:
        sure = False  # `不超过6万元以上`: the prefix wins, the user confirms
    comparator = pre or suf or EQ
    if unit is None:
        sure = False
    return Reading(Nature.QUANTITATIVE, comparator, number, unit, sure=sure)


def _read_unknown_unit(value: str) -> Reading | None:
    match = _UNKNOWN_UNIT.fullmatch(value)
    if match is None:
        return None
    comparator = _PREFIXES.get(match["pre"] or "") or _SUFFIXES.get(match["suf"] or "") or EQ
    number = plain_decimal(Decimal(match["num"].replace(",", "")))
    return Reading(Nature.QUANTITATIVE, comparator, number, match["unit"], sure=False)


def _read_deadline(value: str) -> Reading | None:
    for pattern in _DEADLINES:
        match = pattern.fullmatch(value)
        if match is None:
            continue
        groups = match.groupdict()
        number = _number(groups["m"]) if groups.get("m") else Decimal(12)
        if groups.get("q"):
            number = Decimal(3 * int(_number(groups["q"]) or 0))
        elif groups.get("h"):
            number = Decimal(6 if groups["h"] == "上半年" else 12)
        if number is None or not 1 <= number <= 12:
            return None
        marked = groups["y"] or groups.get("mark") or groups["before"] or groups["tail"]
        if groups.get("m") and not marked:
            return None  # a bare `12月`: read as a plain quantity instead
        day = int(groups["d"]) if groups.get("d") else None
        if day is not None and not 1 <= day <= 31:
            return None
        sure = groups["tail"] in ("", *_DEADLINE_VERBS)
        period = groups.get("q") or groups.get("h")  # a quarter or half year ends by itself
        sure = sure and (bool(groups["before"] or period) or groups.get("mark") in (
            "底", "末", "年底", "年末", "年终", "年内"))
        sure = sure and (day is None or day >= 28)
        sure = sure and groups.get("mark") not in ("上旬", "中旬")
        return Reading(Nature.QUANTITATIVE, LE, number, "月", sure=sure)
    return None


_RELATIVE = re.compile(
    r"(?:(?:较|比|与|相比|同)?\s*(?:上年|去年|上一年|上年度|前一年|[0-9]{4}\s*年)(?:同期)?"
    r"(?:相比)?|同比|环比)\s*[,，]?\s*"
    r"(?:增长|提高|提升|增加|上升|下降|降低|减少|缩短|压缩|节约)(?:了)?\s*(?P<rest>.+)"
)


def _read_relative(value: str) -> Reading | None:
    """A target against last year (`较上年下降3%`, `同比增长5%以上`, `比上年提高2个百分点`):
    the change is the quantity; the words before it stay in the user's text."""
    match = _RELATIVE.fullmatch(value)
    if match is None:
        return None
    reading = _read_quantity(match["rest"])
    if reading is None or reading.unit is None:
        return None
    return reading


def _read_grade(value: str) -> Reading | None:
    match = _GRADE.fullmatch(value)
    if match is None:
        return None
    comparator = GE if match["suf"] else None
    return Reading(Nature.QUALITATIVE, comparator, grade=_GRADES[match["grade"]])


_TARGET = re.compile(
    rf"百分之(?P<pct>{_NUMBER})"  # a match starts where a number starts (linear time)
    rf"|(?<![0-9.,零〇一二两三四五六七八九十百千])(?P<num>{_NUMBER})\s*"
    rf"(?P<unit>{_UNIT})"
)


def targets(text: str) -> list[tuple[Decimal, str]]:
    """The (number, unit) pairs named in a text, e.g. a 三级指标 that holds its own target."""
    found: list[tuple[Decimal, str]] = []
    for match in _TARGET.finditer(normalize_width(text)):
        number = _number(match["pct"] or match["num"])
        unit = "%" if match["pct"] else _unit(match["unit"])
        if unit == "周" and match.end() < len(text) and text[match.end()] == "年":
            continue  # 100周年 is an anniversary, not a duration
        if number is not None:
            found.append((number, unit))
    return found


def _agrees_with_name(reading: Reading, name: str) -> bool:
    if reading.number is None or reading.unit is None:
        return True
    named = targets(name)
    same_unit = [number for number, unit in named if unit == reading.unit]
    if same_unit and reading.number not in same_unit:
        return False
    counts = [unit for _, unit in named if unit not in PERCENT_UNITS and unit not in TIME_UNITS]
    return not (reading.unit == "%" and reading.number < 100 and counts)


def read_indicator(name: str, value: str) -> Reading:
    """The structured reading of one row from its 三级指标 and 指标值 (see the module's policy).

    Never raises; `confirmed` is always False (the engine sets it).
    """
    tidy_name, tidy_value = tidy(name), tidy(value)
    value_na = bool(_NOT_APPLICABLE.fullmatch(tidy_value))
    name_na = bool(_NOT_APPLICABLE.fullmatch(tidy_name))
    value_slash, name_slash = is_placeholder_slash(value), is_placeholder_slash(name)
    if value_na or name_na or value_slash:
        sure = value_na or (name_na and (value_slash or not tidy_value)) or name_slash
        return Reading(Nature.NOT_APPLICABLE, sure=sure)
    if not tidy_value:
        return Reading(Nature.QUALITATIVE, sure=False)
    reading = (
        _read_grade(tidy_value)
        or _read_deadline(tidy_value)
        or _read_quantity(tidy_value)
        or _read_relative(tidy_value)
        or _read_unknown_unit(tidy_value)
    )
    if reading is None:
        return Reading(Nature.QUALITATIVE)
    if reading.nature is Nature.QUANTITATIVE and reading.unit is None:
        bracketed = re.search(r"\((?P<unit>[^()]{1,8})\)$", tidy(name))
        # 三级指标 `培训人数（人）` or `亩均补助（元/亩）` + 指标值 `50`
        if bracketed and re.fullmatch(_UNIT, bracketed["unit"]):
            reading = Reading(Nature.QUANTITATIVE, reading.comparator, reading.number,
                              _unit(bracketed["unit"]), sure=True)
    if reading.sure and not _agrees_with_name(reading, name):
        reading = Reading(Nature.QUANTITATIVE, reading.comparator, reading.number, reading.unit,
                          sure=False)
    return reading


def _symbol(comparator: Comparator | None) -> str:
    return "" if comparator is None or comparator is EQ else comparator.value


def canonical_text(reading: Reading) -> str:
    """A 指标值 text that reads back to the same reading (surely, given a plain 三级指标):
    `≥10次`, `100%`, `≤12月`, `良`, `良及以上`, `定性`, `不适用`. A number without unit stays
    unsure (`12`)."""
    if reading.nature is Nature.NOT_APPLICABLE:
        return "不适用"
    if reading.nature is Nature.QUALITATIVE:
        if reading.grade is None:
            return "定性"
        return reading.grade.value + ("及以上" if reading.comparator is GE else "")
    number = format_decimal(reading.number) if reading.number is not None else ""
    return f"{_symbol(reading.comparator)}{number}{reading.unit or ''}"


def is_calendar_deadline(value: str) -> bool:
    """A month, day, quarter or year end by which to finish (`2024年11月底前`, `第三季度末前`),
    as opposed to a duration (`12个月内`) or a bare `≤12月`."""
    return _read_deadline(tidy(value)) is not None


def split_for_2023(reading: Reading, value_text: str, name: str = "") -> tuple[str, str]:
    """(指标值, 计量单位) for layouts that print the unit apart, keeping the user's text whole.

    指标值 + 计量单位 always give back what the user typed (see `join_2023`):
    * a value that ends in its unit gives the unit to 计量单位: `≥95%` → (`≥95`, `%`),
      `≤420元/亩` → (`≤420`, `元/亩`), `十二次` → (`十二`, `次`);
    * another quantity is printed whole with its unit beside it: `10次以上` → (`10次以上`, `次`);
    * a calendar deadline is printed whole, without a unit, so its year, month and day stay
      together: `2024年11月底前` → (`2024年11月底前`, ``) — 定量, checkable at year end, but not a
      number of months;
    * 定性 values (grades, sentences, ranges) → (the text, ``); 不适用 → (`/`, `/`).
    `name` is the row's 三级指标 (a unit in its brackets, `培训人数（人）`, is the value's unit).
    """
    if reading.nature is Nature.NOT_APPLICABLE:
        return "/", "/"
    typed = value_text.strip()
    unit = reading.unit
    if reading.nature is Nature.QUALITATIVE or not unit or is_calendar_deadline(typed):
        return typed, ""
    cut = len(typed) - len(unit)
    head, tail = typed[:cut], typed[cut:]
    # Only a unit typed right after its number moves (a cell's spaces would not survive).
    moves = normalize_width(tail) == unit and head and not head[-1].isspace()
    if moves and read_indicator(name, head).unit is None:
        return head, tail
    return typed, unit


_BEFORE_SUFFIX = re.compile(rf"(?P<head>.*[0-9零〇一二两三四五六七八九十百千])\s*"
                            rf"(?P<suffix>(?:{_alternation((*_SUFFIXES, *_TAILS))})?)")


def join_2023(name: str, value: str, unit: str) -> str:
    """The user's 指标值 from the 2023 columns 指标值 and 计量单位 (the inverse of
    `split_for_2023`, and lenient with hand-made sheets): the unit is added unless the value
    already holds it; after the number, before a bound word (`10以上` + `次` → `10次以上`)."""
    value, unit = value.strip(), unit.strip()
    if not unit or is_placeholder_slash(unit) or not value:
        return value
    if read_indicator(name, value).unit == _unit(normalize_width(unit)):
        return value
    match = _BEFORE_SUFFIX.fullmatch(value)
    if match is not None and match["suffix"]:
        return f"{match['head']}{unit}{match['suffix']}"
    return value + unit
