// The words every page uses, in both languages: alarm severities and types, the services'
// and roles' names, the shared messages, gate reasons, the live link's states. Loaded before
// app.js, which reads them as `window.HubWords` (pages add their own with Hub.translate).
"use strict";

window.HubWords = (() => {
  // Words every page uses: alarm severities and types.
  const COMMON = {
    "zh-CN": {
      sev: { critical: "紧急", major: "重要", minor: "一般", warning: "提示" },
      alarm_type: { equipment_fault: "设备故障", geofence_exit: "越界", geofence_enter: "闯入",
        patrol_missed: "巡更漏检", patrol_late: "巡更迟到", patrol_out_of_order: "巡更顺序错误",
        patrol_implausible: "巡更异常",
        silence: "设备离线", threshold: "超限", lone_worker: "单人作业", vehicle_unauthorised: "公车违规使用",
        ticket_overdue: "工单超时", rule_failure: "规则故障", sign_in_locked: "登录锁定",
        gate_denied_repeatedly: "门岗多次拒绝", visitor_overstay: "访客超时" },
    },
    en: {
      sev: { critical: "critical", major: "major", minor: "minor", warning: "warning" },
      alarm_type: { equipment_fault: "equipment fault", geofence_exit: "left area",
        geofence_enter: "entered area", patrol_missed: "patrol missed", patrol_late: "patrol late",
        patrol_implausible: "implausible patrol visit",
        patrol_out_of_order: "patrol out of order", silence: "device silent", threshold: "limit exceeded",
        lone_worker: "lone worker", vehicle_unauthorised: "unauthorised car use", ticket_overdue: "ticket overdue",
        sign_in_locked: "sign-in locked", gate_denied_repeatedly: "gate refused repeatedly",
        rule_failure: "rule failed", visitor_overstay: "visitor overstaying" },
    },
  };
  COMMON["zh-CN"].forbidden = "您的账号不能使用这项功能（角色或单位不符）";
  COMMON.en.forbidden = "Your account may not use this (its role or unit does not allow it)";
  COMMON["zh-CN"].busy = "正在提交，请稍候";
  COMMON.en.busy = "Sending, a moment";
  COMMON["zh-CN"].inbox = "消息";
  COMMON.en.inbox = "Inbox";
  COMMON["zh-CN"].offline = "离线：连不上大院系统，页面是上次打开时的样子，数据暂时无法更新";
  COMMON.en.offline = "Offline: the hub cannot be reached; this page is as it was, nothing can be updated";
  COMMON["zh-CN"].svc = { home: "首页", rooms: "会议室", vehicles: "用车", visits: "访客", canteen: "食堂",
    kitchen: "食堂后厨", counter: "取餐窗口", report: "报修",
    inbox: "消息", notices: "通知公告", feedback: "建议投诉", surveys: "问卷调查", permits: "卡证办理", guard: "巡更", console: "报警", tickets: "工单", gate: "门岗", devices: "设备", energy: "能耗",
    patrol: "巡更报告", wall: "监控大屏", admin: "运行状态" };
  COMMON.en.svc = { home: "Home", rooms: "Rooms", vehicles: "Cars", visits: "Visitors", canteen: "Canteen",
    kitchen: "Kitchen", counter: "Counter", report: "Repairs",
    inbox: "Inbox", notices: "Notices", feedback: "Suggestions", surveys: "Questionnaires", permits: "Cards & permits", guard: "Patrol", console: "Alarms", tickets: "Tickets", gate: "Gate", devices: "Devices",
    energy: "Energy", patrol: "Patrol report", wall: "Wall", admin: "Health" };
  COMMON["zh-CN"].role = { admin: "管理员", security: "安保", dispatcher: "调度", technician: "维修技师",
    staff: "职工", manager: "管理层", canteen: "食堂" };
  COMMON.en.role = { admin: "administrators", security: "security", dispatcher: "dispatchers",
    technician: "technicians", staff: "staff", manager: "managers", canteen: "canteen staff" };
  COMMON["zh-CN"].menu = "菜单";
  COMMON.en.menu = "Menu";
  COMMON["zh-CN"].not_for_you = "这个页面供{roles}使用，您的账号不能使用。";
  COMMON.en.not_for_you = "This page is for {roles}; your account may not use it.";
  COMMON["zh-CN"].go_home = "回到首页";
  COMMON.en.go_home = "Back to my home";
  // Gate decisions' reasons as the hub records them (stable English), in words.
  COMMON["zh-CN"].reasons = { "visitor pass": "访客通行证", "visitor leaving": "访客离开", "visitor car": "访客车辆",
    "visitor car leaving": "访客车辆离开", "staff car": "本院车辆", "blocked plate": "黑名单车牌",
    "unknown plate": "未登记车牌", "unknown pass": "未知通行证", "the pass is revoked": "通行证已撤销",
    "the pass has expired": "通行证已过期", "the pass is not valid yet": "通行证尚未生效",
    "forged pass (bad signature)": "伪造的通行证（签名不符）", "not a pass (too long)": "不是通行证",
    "already inside: no exit since the last entry": "已在院内：上次进入后没有出门记录",
    "no entries left on this pass": "通行证的进入次数已用完", "no entries left for this car": "该车的进入次数已用完",
    "this visitor car is not expected now": "该访客车辆不在预约时段内", "the visit is cancelled": "来访已取消",
    "near match: a guard should look": "近似车牌：请人工核对", "no entry recorded for this pass": "该通行证没有进入记录",
    "no entry recorded for this car": "该车没有进入记录", override: "人工放行",
    "staff permit": "本院停车证", "staff credential": "工作证（手机）", "staff leaving": "工作人员离开",
    "no entry recorded for this person": "此人没有进入记录", "the person's account is closed": "账号已停用",
    "the person's staff card is suspended": "工作证已暂停", "the person's staff card is revoked": "工作证已注销",
    "the person's staff card is lost": "工作证已挂失", "not a staff credential": "不是工作证二维码",
    "staff credentials are not taken here": "此处不受理工作证二维码", "this code was used already": "二维码已使用过" };
  COMMON["zh-CN"].reason_prefix = { "override: ": "人工放行：", "review: ": "待核验：", "unreadable plate (": "车牌无法识别（",
    "the pass is not for ": "通行证不适用于 ", "not a valid pass (": "无效通行证（",
    "this code was used already (": "二维码已使用过（" };
  COMMON.en.reasons = {};
  COMMON.en.reason_prefix = {};
  COMMON["zh-CN"].link = { live: "实时连接正常", connecting: "正在连接", offline: "连接中断，正在重连" };
  COMMON.en.link = { live: "live", connecting: "connecting", offline: "connection lost, reconnecting" };
  return COMMON;
})();
