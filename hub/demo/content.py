"""The demo's day in the services, so each demo account's home shows what its role sees on a
working day: the staff member's meeting, car request, visitor and repairs (one to rate), the
office director's approvals, the dispatcher's car to dispatch and ticket to assign, the
driver's trip, the electrician's job. Made once, through the services (as people would), the
first time the demo starts on an empty database."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hub.context import HubContext
from hub.errors import HubError
from hub.identity.roles import Principal, Role
from hub.services.booking import Slot
from hub.services.canteen import ItemIn
from hub.services.feedback import Draft
from hub.services.gate.visits import VisitorIn
from hub.services.notices import Audience

log = logging.getLogger(__name__)

STAFF = Principal("staff", frozenset({Role.STAFF}), "u-office")
LEADER = Principal("leader", frozenset({Role.STAFF}), "u-office")
FINANCE = Principal("fin-wang", frozenset({Role.STAFF}), "u-finance")
TEACHER = Principal("edu-zhao", frozenset({Role.STAFF}), "u-edu")
DISPATCHER = Principal("dispatcher", frozenset({Role.DISPATCHER}), "u-logistics")
ELECTRICIAN = Principal("tech-elec", frozenset({Role.TECHNICIAN}), "u-logistics")
COOK = Principal("cook", frozenset({Role.CANTEEN}), "u-logistics")
MANAGER = Principal("manager", frozenset({Role.MANAGER}), "u-logistics")

# (meal, name, category, price in cents, portions or None, allergens)
DISHES = [
    ("breakfast", "豆浆", "drink", 150, None, ["大豆"]),
    ("breakfast", "肉包", "pastry", 200, 200, ["小麦"]),
    ("lunch", "红烧肉", "dish", 1500, 80, []),
    ("lunch", "清炒时蔬", "dish", 600, None, []),
    ("lunch", "番茄蛋汤", "soup", 300, None, ["鸡蛋"]),
    ("lunch", "米饭", "staple", 100, None, []),
    ("dinner", "牛肉面", "noodles", 1200, 60, ["小麦"]),
    ("takeaway", "葱油饼", "takeaway", 500, 40, ["小麦"]),
]


def seed_day(ctx: HubContext) -> bool:
    """Book, ask, invite and report as the demo's people would; False when the database
    already holds the demo's things (a restart) or a service is not there."""
    rooms, vehicles, visits, tickets = ctx.rooms, ctx.vehicles, ctx.visits, ctx.tickets
    if rooms is None or vehicles is None or visits is None:
        return False
    if rooms.find(organiser="staff", limit=1):
        return False
    tz = ZoneInfo(ctx.site.site.timezone)
    tomorrow = datetime.now(tz).date() + timedelta(days=1)

    def at(hour: int, minute: int = 0) -> datetime:
        return datetime.combine(tomorrow, time(hour, minute), tz)

    try:
        rooms.book(STAFF, "r-101", Slot(at(10), at(11)), title="周例会", attendees=20)
        rooms.book(FINANCE, "r-501", Slot(at(14), at(15, 30)), title="预算评审会", attendees=15)
        vehicles.request(
            STAFF,
            purpose="调研",
            destination="区政务服务中心",
            passengers=2,
            start=at(9),
            end=at(12),
        )  # waits for the office director
        vehicles.request(
            TEACHER,
            purpose="送考",
            destination="市教育考试院",
            passengers=3,
            start=at(13),
            end=at(17),
        )  # no approvers in that unit: waits for the dispatcher
        trip = vehicles.request(
            TEACHER,
            purpose="取档案",
            destination="区档案馆",
            passengers=1,
            start=at(8, 30),
            end=at(10),
        )
        vehicles.dispatch(DISPATCHER, trip["id"], "car-1", "d1")  # 周司机's trip
        visits.register(
            STAFF,
            purpose="项目洽谈",
            start=at(9, 30),
            end=at(11, 30),
            visitors=[
                VisitorIn(name="王建国", phone="13800000001", company="某某科技公司"),
                VisitorIn(name="李明", phone="13800000002", plate="浙A12345"),
            ],
        )
        tickets.report(
            STAFF, description="三楼东侧饮水机漏水", category="plumbing", location="1号楼三层"
        )
        done, _ = tickets.report(
            STAFF, description="会议室投影仪不亮", category="electrical", location="1号楼101"
        )
        tickets.assign(done["id"], DISPATCHER, "t-elec")
        tickets.accept(done["id"], ELECTRICIAN)
        tickets.start(done["id"], ELECTRICIAN)
        tickets.resolve(done["id"], ELECTRICIAN, "更换投影仪灯泡", [])
        tickets.report(
            LEADER, description="二楼走廊灯不亮", category="electrical", location="1号楼二层"
        )
        _canteen_week(ctx, tomorrow)
        ctx.notices.publish(
            MANAGER,
            title="关于开展消防安全演练的通知",
            body=(
                "<p>各单位：为提高应急处置能力，定于本周五 15:00 在大院广场开展消防安全演练，"
                "请各单位组织在岗人员参加。</p><p>机关事务管理中心</p>"
            ),
            audience=Audience(everyone=True),
            pinned=True,
            must_ack=True,
        )
        _feedback(ctx)
        _survey(ctx)
        ctx.permits.apply(STAFF, "door", doors=["r-101"], note="负责会议保障，需开通第一会议室门禁")
    except HubError as err:  # the site file changed under the demo: its day is partly made
        log.warning("the demo's day was not made whole: %s", err)
    return True


def _feedback(ctx: HubContext) -> None:
    """A suggestion answered and on the board; an anonymous complaint waiting for the
    canteen."""
    done = ctx.feedback.submit(
        FINANCE,
        Draft(
            "suggestion",
            "meetings",
            "会议室预约后能否提前开空调",
            "夏天下午的会议，会议室刚开空调时很热，建议预约后提前半小时开空调。",
            room="r-301",
        ),
    )
    ctx.feedback.act(DISPATCHER, done["id"], "accept")
    ctx.feedback.act(
        DISPATCHER,
        done["id"],
        "answer",
        "已上线：预约会议室后，空调在会议开始前 30 分钟自动开启，会后自动转为节能模式。",
    )
    ctx.feedback.act(DISPATCHER, done["id"], "publish")
    ctx.feedback.submit(
        TEACHER,
        Draft(
            "complaint",
            "canteen",
            "午餐排队时间太长",
            "12:00 前后窗口只开了两个，排队要 15 分钟以上。",
            building="b3",
            anonymous=True,
        ),
    )


def _survey(ctx: HubContext) -> None:
    """An anonymous questionnaire for everyone, open for a fortnight."""
    ctx.surveys.create(
        MANAGER,
        title="机关后勤服务满意度调查",
        intro="匿名填写，约 2 分钟。",
        questions=[
            {"id": "canteen", "type": "scale", "title": "食堂总体满意度", "required": True},
            {
                "id": "use",
                "type": "multiple",
                "title": "您常用哪些服务",
                "options": ["会议室预约", "公务用车", "访客登记", "报修", "食堂订餐"],
            },
            {
                "id": "parts",
                "type": "matrix",
                "title": "各项服务打分",
                "rows": ["响应速度", "服务态度", "办理结果"],
                "scale": 5,
            },
            {"id": "say", "type": "text", "title": "意见和建议"},
        ],
        audience=Audience(everyone=True),
        closes_at=ctx.surveys.clock() + timedelta(days=14),
        anonymous=True,
    )


def _canteen_week(ctx: HubContext, first: date) -> None:
    """The canteen's menu from `first` for a week (working days), and the staff member's
    lunch tomorrow."""
    menu = ctx.canteen.menu
    days = [first + timedelta(days=n) for n in range(7)]
    items = [
        ItemIn(
            day=d,
            meal=meal,
            name=name,
            category=kind,
            price_cents=cents,
            portions=limit,
            allergens=allergens,
        )
        for d in days
        if d.weekday() < 5
        for meal, name, kind, cents, limit, allergens in DISHES
    ]
    if not items:
        return
    published = menu.publish(COOK, "main", items)
    lunch = [i for i in published if i["day"] == items[0].day.isoformat() and i["meal"] == "lunch"]
    if lunch:
        picks = {lunch[0]["id"]: 1, lunch[-1]["id"]: 1}
        ctx.canteen.orders.order(STAFF, "main", items[0].day, "lunch", picks)
