"""The seed department (2021, 中共株洲市石峰区委员会宣传部) as a user would type it in chat.

Texts are copied from /work/shared/seed/000_f57eddaaff292e73.txt. Where the seed contradicts
itself, the C tables are the truth (table B is computed from them). Its defects are kept apart:
`SEED_TOTAL_DEFECT` (资金总额 267.5915 ≠ 177.59151 + 90) and the empty 指标值 cells, which tests
type as `EMPTY_VALUE_SUBSTITUTE` after checking that the empty value is refused. The seed's three
spellings of 不适用 (`/`, `无直接经济效益`, blank) all become `NOT_APPLICABLE`.

`seed_filing()` builds the same data as stored FormStates, for export tests.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from dialogs.definition import IndicatorColumn
from dialogs.filing import DepartmentFiling, FiledForm
from dialogs.loader import get_layout
from dialogs.state import FormState, GroupRow, IndicatorRow
from dialogs.steps import StepKind, done_key
from dialogs.values import Period, Reading, YearMonth

SEED_YEAR = 2021
SEED_DEPARTMENT = "中共株洲市石峰区委员会宣传部"
SEED_TOTAL_DEFECT = "267.5915"  # what the seed prints; refused (177.59151 + 90 = 267.59151)
EMPTY_VALUE_SUBSTITUTE = "≥90%"  # typed where the seed's 指标值 cell is empty
NOT_APPLICABLE = "/"

TABLE_A_ANSWERS: dict[str, str | None] = {
    "total": "267.59151",
    "general_budget": "267.59151",
    "government_fund": None,  # skipped
    "other_funds": None,  # skipped
    "basic_expense": "177.59151",
    "project_expense": "90",
    "duties": (
        "（一）指导全区的理论学习、理论宣传、理论研究工作，做好干部理论教育和党员教育工作。"
        "（二）把握正确的舆论导向，组织协调全区对外宣传和网上宣传工作，完成各项外宣工作和党报党刊"
        "发行工作。（三）研究拟定有关全区精神文明建设的方针、政策，组织开展全区文明创建工作，负责"
        "全区文明建设表彰工作。"
    ),
}

KEY_TASKS: list[dict[str, str]] = [
    {
        "item": "持续深入学习宣传贯彻习近平新时代中国特色社会主义思想",
        "unit": "宣传部",
        "goal": (
            "建立党委（党组）理论学习中心组学习巡听旁听制度；结合“学习强国”和《习近平新时代中国"
            "特色社会主义思想学习问答》、《新征程面对面》等系列理论读物的学习使用，开展“学习活动"
            "品牌创建年”活动，纵深推进党的十九届五中、六中全会精神宣传宣讲。"
        ),
    },
    {
        "item": "扎实做好党史学习教育和庆祝中国共产党成立100周年各项工作",
        "unit": "宣传部",
        "goal": (
            "制定全区党史学习教育方案和庆祝活动总体方案，在党员干部中开展党史教育，统筹做好“永远"
            "跟党走”群众性主题宣传教育活动、文艺体育系列活动等工作。"
        ),
    },
    {
        "item": (
            "着力营造大力实施“三高四新”战略、加快建设“一极三区”、加快建设现代化新石峰的浓厚氛围"
        ),
        "unit": "宣传部",
        "goal": (
            "做好中央、省、市、区重要会议精神和重大活动宣传报道，深入宣传全区加快建设“一极三区”"
            "等方面的进展成效；建立健全融媒体中心管理制度，进一步优化新媒体平台，做好网上重大主题"
            "宣传。"
        ),
    },
    {
        "item": "积极培育和践行社会主义核心价值观",
        "unit": "宣传部",
        "goal": (
            "贯彻落实《新时代公民道德实施纲要》，开展道德模范、湖南好人和“新时代好少年”推荐宣传"
            "工作，扎实推进移风易俗，深化新时代文明实践中心建设，制定并落实《石峰区志愿服务终身积分"
            "、星级评定、礼遇褒奖办法（试行）》，开发运用“爱心时间银行”网上志愿服务工作平台，开展"
            "“雷锋家乡学雷锋、文明石峰我先行”等志愿服务主题活动；深入贯彻落实《新时代爱国主义教育"
            "实施纲要》，创建秋瑾故居省级爱教基地，做大做强“秋瑾讲坛”，成立秋瑾剧院，编创爱国主义"
            "教育情景剧《秋瑾》系列艺术节目；制定并落实《石峰区建设新时代全域化更高水平全国文明城市"
            "三年行动实施方案》，深化“双十行动”，做好全国文明城市测评工作。"
        ),
    },
    {
        "item": "坚决守护意识形态领域绝对安全",
        "unit": "宣传部",
        "goal": (
            "坚持党对意识形态工作全面领导，制定下发《石峰区落实党委（党组）意识形态工作责任制实施"
            "方案》，认真完成省委巡视问题整改，加强和改进区直部门意识形态巡察工作，开展区委直属党委"
            "（党组）履行基层党建暨落实意识形态工作责任制述职评议；抓好管好宗教领域、文化市场“扫黄"
            "打非”、中小学校思政教育、户外社会公益宣传广告等各类意识形态阵地，出台微信工作群规范管理"
            "制度，规范网评员队伍管理和考核，走好网上群众路线。"
        ),
    },
]


@dataclass(frozen=True)
class SeedIndicator:
    """One 三级指标 row as typed: `level2` is the 二级 key of the form definition."""

    level2: str
    name: str
    value: str
    remark: str = ""

    @property
    def not_applicable(self) -> bool:
        return self.name == NOT_APPLICABLE and self.value == NOT_APPLICABLE


@dataclass(frozen=True)
class SeedDirection:
    """One table C: its typed answers by field key, and its indicator rows."""

    answers: Mapping[str, str]
    indicators: tuple[SeedIndicator, ...] = field(default=())

    @property
    def name(self) -> str:
        return self.answers["direction"]


def _na(level2: str) -> SeedIndicator:
    return SeedIndicator(level2, NOT_APPLICABLE, NOT_APPLICABLE)


TABLE_A_INDICATORS: list[SeedIndicator] = [
    SeedIndicator(
        "quantity",
        "开展党史学习研讨，围绕习近平总书记在庆祝中国共产党成立100周年大会上的重要讲话精神开展"
        "宣讲，围绕百年党史开展宣讲，举办“我心永向党 建设新石峰”党史知识竞赛，举办庆祝中国共产党"
        "成立100周年书法美术作品创作与展示。",
        "开展区委理论中心组学习12次，开展党史学习研讨4次，开展宣讲10次以上，开展书法美术作品创作与"
        "展示1次。石峰媒体中心每天通过石峰发布、抖音、微博等推送主题报道。",
    ),
    SeedIndicator("quality", "预算资金使用率", "100%"),
    SeedIndicator("timeliness", "工作及时完成率", "100%"),
    SeedIndicator("cost", "不超过预算", "按预算经费实施。"),
    _na("economic"),  # seed: 无直接经济效益
    SeedIndicator(
        "social",
        "宣传贯彻习近平总书记系列重要讲话精神。加强全区领导干部思想政治建设。宣传区委、区政府在"
        "经济社会发展、民生实事、文明创建等方面的工作和成效。",
        "95%",
    ),
    SeedIndicator("ecological", "建设新时代全域化更高水平文明城市。", "95%"),
    SeedIndicator(
        "sustainable",
        "形成学习模范、关心模范、争做模范的良好氛围。促进文化事业和文化产业发展。",
        "95%",
    ),
    SeedIndicator("satisfaction", "提高社会公众对宣传工作的认可度和满意度", "95%"),
]

_MEDIA_INDICATORS = (
    SeedIndicator(
        "quantity",
        "做好中央、省、市、区重要会议精神和重大活动宣传报道，每天通过石峰发布、抖音、微博等推送主题"
        "报道。",
        "100%",
    ),
    SeedIndicator("quality", "深入宣传全区加快建设“一极三区”等方面的进展成效", "100%"),
    SeedIndicator("timeliness", "全年", "100%"),
    SeedIndicator("cost", "按预算金额", "100%"),
    _na("economic"),  # seed: 无直接经济效益 / /
    SeedIndicator("social", "宣传我区加快建设“一极三区”等方面的进展成效", ""),  # seed: empty
    _na("ecological"),
    SeedIndicator("sustainable", "了解全区工作进展成效", ""),  # seed: empty
    SeedIndicator("satisfaction", "提高对宣传工作的认可度和满意度", "95%"),
)


def _direction(
    name: str,
    fund: str,
    amount: str,
    period_goal: str,
    annual_goal: str,
    indicators: tuple[SeedIndicator, ...],
) -> SeedDirection:
    answers = {
        "direction": name,
        "special_fund": fund,
        "amount": amount,
        "period": "2021.1-2021.12",
        "period_goal": period_goal,
        "annual_goal": annual_goal,
    }
    return SeedDirection(answers=answers, indicators=indicators)


DIRECTIONS: list[SeedDirection] = [
    _direction(
        "文明建设和文明创建",
        "业务性专项经费",
        "6",
        "做好年度全国文明城市迎检复查工作，开展新时代文明实践中心建设。",
        "为株洲市蝉联全国文明城市贡献力量。",
        (
            SeedIndicator(
                "quantity", "推动全区精神文明建设和文明创建工作水平。", "开展社会公益宣传。"
            ),
            SeedIndicator("quality", "预算资金使用率", "100%"),
            SeedIndicator("timeliness", "工作及时完成率", "100%"),
            SeedIndicator("cost", "不超过预算", "6万元以下"),
            _na("economic"),  # seed: 无直接经济效益
            SeedIndicator("social", "提高全域化更高水平文明城市建设水平。", "良好"),
            _na("ecological"),
            SeedIndicator("sustainable", "加强社会主义核心观建设", "良好"),  # the seed's typo
            SeedIndicator("satisfaction", "提高社会对宣传工作的认可度和满意度", "95%"),
        ),
    ),
    _direction(
        "理论学习",
        "业务性专项经费",
        "6",
        "加强全区领导干部思想政治建设，推进学习型党组织建设。",
        "开展机关干部学习培训，保质保量完成中心组学习任务，不少于12次。",
        (
            SeedIndicator("quantity", "完成中心组学习任务12次。", "100%"),
            SeedIndicator("quality", "学习习近平新时代中国特色社会主义思想、党史等", "100%"),
            SeedIndicator("timeliness", "全年", "100%"),
            SeedIndicator("cost", "不超过预算", "100%"),
            _na("economic"),  # seed: 无直接经济效益 / /
            SeedIndicator("social", "提高全社会学习氛围", "95%"),
            _na("ecological"),
            SeedIndicator("sustainable", "提高全民素质", "95%"),
            SeedIndicator("satisfaction", "提高对宣传工作的认可度和满意度", "95%"),
        ),
    ),
    _direction(
        "意识形态",
        "业务性专项经费",
        "3",
        "开展讲座，宣传、宣讲等相关工作，开展意识形态工作督查，开展“扫黄打非”整治。",
        "学习宣传贯彻习近平新时代中国特色社会主义思想。",
        (
            SeedIndicator("quantity", "开展宣讲10次以上，开展意识形态工作督查一次。", "100%"),
            SeedIndicator("quality", "高质量完成", "100%"),
            SeedIndicator("timeliness", "全年", "100%"),
            SeedIndicator("cost", "不超过预算", "100%"),
            _na("economic"),  # seed: 无直接经济效益 / /
            SeedIndicator("social", "形成社会良好舆论氛围", "95%"),
            _na("ecological"),
            SeedIndicator("sustainable", "提高全民素质", "95%"),
            SeedIndicator("satisfaction", "提高对宣传工作的认可度和满意度", "95%"),
        ),
    ),
    _direction(
        "融媒体运营经费",
        "融媒体中心经费",
        "60",
        "提升宣传力度，树立石峰良好形象，做大做强自有宣传阵地。",
        "做好“石峰发布”的运营。",
        _MEDIA_INDICATORS,
    ),
    _direction(
        "宣传经费",
        "融媒体中心经费",
        "15",
        "围绕区委、区政府中心工作做好宣传报道。",
        "维护石峰新闻网等网络宣传阵地。",
        _MEDIA_INDICATORS,  # the seed's identical indicator sets (a warning, kept)
    ),
]

SEED_PERIOD = Period(YearMonth(2021, 1), YearMonth(2021, 12))


def _reader() -> Callable[[str, str], Reading] | None:
    """`dialogs.parsing.indicator.read_indicator` when that module exists."""
    try:
        module = importlib.import_module("dialogs.parsing.indicator")
    except ImportError:
        return None
    reader: Callable[[str, str], Reading] | None = getattr(module, "read_indicator", None)
    return reader


def _rows(
    layout_key: str, indicators: list[SeedIndicator] | tuple[SeedIndicator, ...]
) -> tuple[IndicatorRow, ...]:
    layout = get_layout(layout_key).table_a.indicators
    asked = tuple(spec.column.value for spec in layout.asked_columns())
    read = _reader()
    weighted = layout.has(IndicatorColumn.WEIGHT)
    applicable = sum(1 for seed in indicators if not seed.not_applicable)
    share = 100 // applicable if applicable else 0
    first_weight = 100 - share * (applicable - 1)  # the weights of a table sum to 100
    rows: list[IndicatorRow] = []
    for seed in indicators:
        if seed.not_applicable:
            rows.append(IndicatorRow.not_applicable_row(seed.level2))
            continue
        value = seed.value or EMPTY_VALUE_SUBSTITUTE
        reading = read(seed.name, value) if read else None
        weight = None
        if weighted:
            weight = Decimal(
                first_weight if len(rows) == 0 or all(r.not_applicable for r in rows) else share
            )
        rows.append(
            IndicatorRow(
                level2=seed.level2,
                name=seed.name,
                value=value,
                reading=reading,
                remark=seed.remark or None,
                weight=weight,
                visited=asked,
            )
        )
    return tuple(rows)


def _done(layout_key: str, groups: tuple[str, ...] = ()) -> dict[str, str]:
    layout = get_layout(layout_key).table_a.indicators
    done = {done_key(StepKind.INDICATOR_MORE, level2.key): "1" for _, level2 in layout.level2s()}
    done.update({done_key(StepKind.GROUP_MORE, group): "1" for group in groups})
    return done


def table_a_state(layout_key: str = "2021") -> FormState:
    values: dict[str, str | Decimal | Period | None] = {}
    definition = get_layout(layout_key).table_a
    for key, text in TABLE_A_ANSWERS.items():
        kind = definition.field(key).kind.value
        values[key] = Decimal(text) if text is not None and kind == "amount" else text
    values.update(_done(layout_key, ("key_tasks",)))
    tasks = tuple(GroupRow(cells=tuple(task.items())) for task in KEY_TASKS)
    return FormState(
        values=values,
        groups={"key_tasks": tasks},
        indicators=_rows(layout_key, TABLE_A_INDICATORS),
        cursor="review",
    )


def direction_state(direction: SeedDirection, layout_key: str = "2021") -> FormState:
    answers = direction.answers
    values: dict[str, str | Decimal | Period | None] = {
        "direction": answers["direction"],
        "special_fund": answers["special_fund"],
        "amount": Decimal(answers["amount"]),
        "period": SEED_PERIOD,
        "period_goal": answers["period_goal"],
        "annual_goal": answers["annual_goal"],
        **_done(layout_key),
    }
    return FormState(
        values=values, indicators=_rows(layout_key, direction.indicators), cursor="review"
    )


def seed_filing(layout_key: str = "2021") -> DepartmentFiling:
    """The seed department's filing as stored forms: A is form 1, the C tables 2–6."""
    return DepartmentFiling(
        department=SEED_DEPARTMENT,
        year=SEED_YEAR,
        layout=get_layout(layout_key),
        table_a=FiledForm(form_id=1, state=table_a_state(layout_key)),
        directions=tuple(
            FiledForm(form_id=number, state=direction_state(direction, layout_key))
            for number, direction in enumerate(DIRECTIONS, start=2)
        ),
    )
