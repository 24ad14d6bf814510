// ParPulse operations dashboard: plain ES2020, no build step, no external resources
// (a province network may be closed to the internet).
"use strict";

const TZ = "Asia/Ho_Chi_Minh";
const SCHEME = "qd766";
const LEVELS = ["department", "commune"];
const GROUPS = ["transparency", "progress", "online_service", "online_payment", "digitisation",
  "satisfaction"];
const LANG_KEY = "parpulse.lang";
const PERIOD_KEY = "parpulse.periodKind";
const TOKEN_KEY = "parpulse.token";

const I18N = {
  vi: {
    subtitle: "Chất lượng phục vụ người dân, doanh nghiệp",
    period: "Kỳ đánh giá",
    period_month: "Tháng {m}/{y}", period_quarter: "Quý {q}/{y}", period_year: "Năm {y}",
    period_rolling: "30 ngày gần nhất",
    lang_toggle: "English",
    conn_connecting: "Đang kết nối…", conn_live: "Trực tiếp",
    conn_reconnecting: "Đang kết nối lại…", conn_offline: "Mất kết nối",
    updated: "Cập nhật {t}",
    kpis: "Chỉ số trong ngày",
    kpi_received: "Tiếp nhận hôm nay", kpi_on_time: "Tỷ lệ đúng hạn (tháng)",
    kpi_overdue: "Đang quá hạn", kpi_due_soon: "Sắp đến hạn",
    ranking_department: "Xếp hạng sở, ban, ngành",
    ranking_commune: "Xếp hạng xã, phường, đặc khu",
    col_rank: "Hạng", col_unit: "Đơn vị", col_score: "Điểm", col_band: "Xếp loại",
    col_change: "Thay đổi", col_groups: "Nhóm chỉ số",
    not_measured: "không đo", no_ranking: "Chưa có dữ liệu xếp hạng cho kỳ này",
    rank_up: "Tăng {n} bậc", rank_down: "Giảm {n} bậc", rank_same: "Không đổi",
    legend: "Cột nhóm chỉ số:",
    alerts: "Cảnh báo", alerts_empty: "Không có cảnh báo đang mở",
    alerts_denied: "Cần mã truy cập để xem cảnh báo",
    due_at: "hạn {t}", remaining: "còn {h} giờ làm việc", supplements: "{n} lần bổ sung",
    close: "Đóng", scorecard: "Bảng điểm chỉ số",
    col_indicator: "Chỉ số", col_ratio: "Đạt / Tổng", col_rate: "Tỷ lệ",
    col_target: "Mục tiêu", col_points: "Điểm",
    costly: "Hồ sơ làm mất điểm", costly_total: "({n} hồ sơ)",
    overdue_dossiers: "Hồ sơ đang quá hạn", none: "Không có",
    summary: "Tổng điểm {s} · {b} · hạng {r}",
    loading: "Đang tải…", load_error: "Không tải được dữ liệu từ máy chủ ({e}).",
    auth_needed: "Cần mã truy cập hợp lệ: mở trang bằng liên kết có ?token=…",
    province: "Toàn tỉnh",
    band: { excellent: "Xuất sắc", good: "Tốt", fair: "Khá", average: "Trung bình", weak: "Yếu" },
    group: {
      transparency: "Công khai, minh bạch", progress: "Tiến độ giải quyết",
      online_service: "Dịch vụ công trực tuyến", online_payment: "Thanh toán trực tuyến",
      digitisation: "Mức độ số hóa hồ sơ", satisfaction: "Mức độ hài lòng",
    },
    kind: {
      due_soon: "Sắp đến hạn", overdue: "Quá hạn", completed_late: "Hoàn thành trễ hạn",
      multiple_supplements: "Bổ sung nhiều lần", quarantined_input: "Dữ liệu bị cách ly",
      dead_lettered: "Tin nhắn lỗi",
    },
    state: { open: "Đang mở", acknowledged: "Đã tiếp nhận", resolved: "Đã xử lý" },
    indicator: {
      synced_national: "Hồ sơ đồng bộ lên Cổng DVC quốc gia",
      procedures_published: "TTHC công bố, công khai đúng hạn, đầy đủ",
      handled_on_time: "Hồ sơ giải quyết trước hạn, đúng hạn",
      online_filing: "Hồ sơ nộp trực tuyến", paid_online: "Hồ sơ thanh toán trực tuyến",
      procedures_paid_online: "TTHC có thanh toán trực tuyến",
      procedures_payable_national: "TTHC thanh toán được trên Cổng DVC quốc gia",
      e_result: "Cấp kết quả điện tử", digitised: "Số hóa hồ sơ",
      data_reused: "Tái sử dụng dữ liệu số hóa", national_data_store: "Kho quản lý dữ liệu điện tử",
      vneid: "CSDL quốc gia về dân cư, VNeID", e_certified_copies: "Bản sao điện tử, chứng thực điện tử",
      feedback_handling: "Xử lý phản ánh, kiến nghị",
      handling_satisfaction: "Hài lòng trong giải quyết TTHC",
    },
  },
  en: {
    subtitle: "Service quality for citizens and businesses",
    period: "Period",
    period_month: "{mon} {y}", period_quarter: "Q{q} {y}", period_year: "Year {y}",
    period_rolling: "Last 30 days",
    lang_toggle: "Tiếng Việt",
    conn_connecting: "Connecting…", conn_live: "Live",
    conn_reconnecting: "Reconnecting…", conn_offline: "Disconnected",
    updated: "Updated {t}",
    kpis: "Today's figures",
    kpi_received: "Received today", kpi_on_time: "On-time rate (month)",
    kpi_overdue: "Open overdue", kpi_due_soon: "Due soon",
    ranking_department: "Department ranking",
    ranking_commune: "Commune ranking",
    col_rank: "Rank", col_unit: "Unit", col_score: "Score", col_band: "Band",
    col_change: "Change", col_groups: "Groups",
    not_measured: "not measured", no_ranking: "No ranking for this period yet",
    rank_up: "Up {n}", rank_down: "Down {n}", rank_same: "No change",
    legend: "Group bars:",
    alerts: "Alerts", alerts_empty: "No open alerts",
    alerts_denied: "An access token is needed to see alerts",
    due_at: "due {t}", remaining: "{h} working hours left", supplements: "{n} supplements",
    close: "Close", scorecard: "Indicator scorecard",
    col_indicator: "Indicator", col_ratio: "Met / Total", col_rate: "Rate",
    col_target: "Target", col_points: "Points",
    costly: "Dossiers that cost points", costly_total: "({n} dossiers)",
    overdue_dossiers: "Overdue dossiers", none: "None",
    summary: "Score {s} · {b} · rank {r}",
    loading: "Loading…", load_error: "Could not load data from the server ({e}).",
    auth_needed: "A valid access token is needed: open the page with a ?token=… link",
    province: "Province-wide",
    band: { excellent: "Excellent", good: "Good", fair: "Fair", average: "Average", weak: "Weak" },
    group: {
      transparency: "Transparency", progress: "Progress", online_service: "Online service",
      online_payment: "Online payment", digitisation: "Digitisation", satisfaction: "Satisfaction",
    },
    kind: {
      due_soon: "Due soon", overdue: "Overdue", completed_late: "Completed late",
      multiple_supplements: "Multiple supplements", quarantined_input: "Quarantined input",
      dead_lettered: "Dead-lettered message",
    },
    state: { open: "Open", acknowledged: "Acknowledged", resolved: "Resolved" },
    indicator: {
      synced_national: "Dossiers synced to the national portal",
      procedures_published: "Procedures published on time, complete",
      handled_on_time: "Dossiers handled early or on time",
      online_filing: "Dossiers filed online", paid_online: "Dossiers paid online",
      procedures_paid_online: "Procedures with an online payment",
      procedures_payable_national: "Procedures payable on the national portal",
      e_result: "Electronic result issued", digitised: "Dossiers digitised",
      data_reused: "Digitised data reused", national_data_store: "National data store linked",
      vneid: "Population database / VNeID used", e_certified_copies: "Electronic certified copies",
      feedback_handling: "Feedback handled on time",
      handling_satisfaction: "Satisfaction with dossier handling",
    },
  },
};

const S = {
  lang: "vi",
  token: null,
  periodKind: "month",
  period: null,
  units: new Map(), // code -> {name, name_en}
  rankings: { department: null, commune: null }, // {version, entries}
  kpis: null,
  alerts: new Map(), // key -> AlertView
  alertsDenied: false,
  drill: null, // {code, scorecard, overdue, error}
  conn: "connecting",
  updatedAt: null,
  notice: null,
};

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "style") node.style.cssText = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// -- i18n and formatting -----------------------------------------------------------------

function t(key, vars) {
  const dict = I18N[S.lang];
  let s = key.split(".").reduce((d, k) => (d && d[k] !== undefined ? d[k] : undefined), dict);
  if (s === undefined) s = key.split(".").pop();
  for (const [k, v] of Object.entries(vars || {})) s = s.replace(`{${k}}`, v);
  return s;
}

const locale = () => (S.lang === "vi" ? "vi-VN" : "en-GB");

function fmtNum(n, digits = 0) {
  return new Intl.NumberFormat(locale(), {
    minimumFractionDigits: digits, maximumFractionDigits: digits,
  }).format(n);
}

function fmtPct(rate, digits = 1) {
  return rate === null || rate === undefined ? "–" : `${fmtNum(rate * 100, digits)}%`;
}

function fmtTime(iso, withDate = true) {
  if (!iso) return "";
  // Assembled by hand: ICU builds differ on vi-VN day-month separators; offices write dd/MM.
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: TZ, hour: "2-digit", minute: "2-digit", hourCycle: "h23", day: "2-digit",
    month: "2-digit",
  }).formatToParts(new Date(iso));
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  return withDate ? `${p.hour}:${p.minute} ${p.day}/${p.month}` : `${p.hour}:${p.minute}`;
}

function unitName(code, entry) {
  if (code === "province") return t("province");
  const en = S.lang === "en";
  const u = S.units.get(code);
  const fromEntry = entry && (en ? entry.unit_name_en || entry.unit_name : entry.unit_name);
  const fromMap = u && (en ? u.name_en || u.name : u.name);
  return fromEntry || fromMap || code;
}

// -- periods (the platform's local date in Vietnam, whatever the browser's zone) ---------

// The platform's clock as its last KPIs gave it (a demo runs on a compressed clock that may be
// in another month than the wall clock); the browser's until the first KPIs arrive.
function platformNow() {
  const at = S.kpis ? Date.parse(S.kpis.as_of) : NaN;
  return Number.isNaN(at) ? new Date() : new Date(at);
}

function vnToday() {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: TZ, year: "numeric", month: "2-digit", day: "2-digit",
  }).formatToParts(platformNow());
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  return { y: get("year"), m: get("month") };
}

function periodOptions() {
  const { y, m } = vnToday();
  const q = Math.floor((m - 1) / 3) + 1;
  const mon = new Intl.DateTimeFormat("en-GB", { month: "long", timeZone: "UTC" })
    .format(new Date(Date.UTC(y, m - 1, 15)));
  return [
    { kind: "month", key: `${y}-${String(m).padStart(2, "0")}`,
      label: t("period_month", { m, y, mon }) },
    { kind: "quarter", key: `${y}-Q${q}`, label: t("period_quarter", { q, y }) },
    { kind: "year", key: String(y), label: t("period_year", { y }) },
    { kind: "rolling", key: "rolling-30", label: t("period_rolling") },
  ];
}

function renderPeriodSelect() {
  const select = $("#period");
  const options = periodOptions();
  if (!options.some((o) => o.kind === S.periodKind)) S.periodKind = "month";
  select.replaceChildren(...options.map((o) => el("option", {
    value: o.key, "data-kind": o.kind, selected: o.kind === S.periodKind,
  }, o.label)));
  S.period = options.find((o) => o.kind === S.periodKind).key;
}

// -- HTTP --------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path) {
  const headers = { Accept: "application/json" };
  if (S.token) headers.Authorization = `Bearer ${S.token}`;
  const resp = await fetch(path, { headers, cache: "no-store" });
  if (!resp.ok) {
    let message = `HTTP ${resp.status}`;
    try { message = (await resp.json()).error.message || message; } catch (_) { /* not JSON */ }
    throw new ApiError(resp.status, message);
  }
  return resp.json();
}

const itemsOf = (body) => (Array.isArray(body) ? body : (body && body.items) || []);

function reportError(err) {
  const auth = err instanceof ApiError && (err.status === 401 || err.status === 403);
  S.notice = auth ? { key: "auth_needed" } : { key: "load_error", vars: { e: err.message } };
  renderNotice();
}

function clearNotice() {
  if (S.notice) { S.notice = null; renderNotice(); }
}

function touch() {
  S.updatedAt = new Date().toISOString();
  $("#updated-at").textContent = t("updated", { t: fmtTime(S.updatedAt, false) });
}

async function loadUnits() {
  const limit = 500;
  for (let offset = 0; ; offset += limit) {
    const body = await api(`/api/v1/units?limit=${limit}&offset=${offset}`);
    const items = itemsOf(body);
    for (const u of items) S.units.set(u.code, { name: u.name, name_en: u.name_en });
    if (items.length < limit || body.total === undefined || body.total === null
        || offset + limit >= body.total) break;
  }
}

async function loadKpis() {
  const body = await api("/api/v1/kpis");
  const newer = S.kpis && Date.parse(S.kpis.as_of) > Date.parse(body.as_of);
  if (!newer) S.kpis = body; // else the stream was faster
  followClock();
  renderKpis();
}

async function loadRanking(level) {
  const period = S.period;
  const q = new URLSearchParams({ scheme: SCHEME, level, period });
  const body = await api(`/api/v1/rankings?${q}`);
  if (period !== S.period) return; // the selector moved on while this was in flight
  const current = S.rankings[level];
  if (current && current.version > body.version) return; // the stream was faster
  S.rankings[level] = { version: body.version, entries: body.entries || [] };
  renderRanking(level, new Set());
}

async function loadAlerts() {
  try {
    const body = await api("/api/v1/alerts?state=open&limit=20");
    S.alerts = new Map(itemsOf(body).map((a) => [a.key, a]));
    S.alertsDenied = false;
  } catch (err) {
    // Public rankings (no token) do not open the alerts: say so in the feed, not as an error.
    if (!(err instanceof ApiError && (err.status === 401 || err.status === 403))) throw err;
    S.alertsDenied = true;
  }
  renderAlerts(new Set());
}

async function loadAll() {
  const results = await Promise.allSettled([
    loadKpis(), ...LEVELS.map(loadRanking), loadAlerts(),
  ]);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) reportError(failed.reason); else { clearNotice(); touch(); }
}

// -- rendering ---------------------------------------------------------------------------

function applyStaticTexts() {
  document.documentElement.lang = S.lang;
  for (const node of document.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n);
  }
  const toggle = $("#lang-toggle");
  toggle.textContent = t("lang_toggle");
  toggle.lang = S.lang === "vi" ? "en" : "vi";
  $("#group-legend").replaceChildren(
    el("span", {}, t("legend")), " ",
    ...GROUPS.map((g, i) => el("span", { class: "legend-item" }, `${i + 1}. ${t(`group.${g}`)}`)),
  );
}

function renderAll() {
  applyStaticTexts();
  renderPeriodSelect();
  renderConn();
  renderNotice();
  renderKpis();
  LEVELS.forEach((level) => renderRanking(level, new Set()));
  renderAlerts(new Set());
  renderDrill();
  if (S.updatedAt) $("#updated-at").textContent = t("updated", { t: fmtTime(S.updatedAt, false) });
}

function renderNotice() {
  const box = $("#notice");
  box.hidden = !S.notice;
  box.textContent = S.notice ? t(S.notice.key, S.notice.vars) : "";
}

function renderConn() {
  const box = $("#conn");
  box.dataset.state = S.conn;
  $("#conn-label").textContent = t(`conn_${S.conn}`);
}

function renderKpis() {
  const k = S.kpis || {};
  const num = (v) => (v === null || v === undefined ? "–" : fmtNum(v));
  $("#kpi-received").textContent = num(k.received_today);
  $("#kpi-on-time").textContent = fmtPct(k.on_time_rate);
  $("#kpi-overdue").textContent = num(k.open_overdue);
  $("#kpi-due-soon").textContent = num(k.due_soon);
}

function bandChip(band) {
  if (!band) return el("span", { class: "chip chip-none" }, "–");
  return el("span", { class: `chip band-${band}`, "data-band": band }, t(`band.${band}`));
}

function changeCell(change) {
  if (change > 0) {
    return el("span", { class: "up", title: t("rank_up", { n: change }) }, `▲ ${change}`);
  }
  if (change < 0) {
    return el("span", { class: "down", title: t("rank_down", { n: -change }) }, `▼ ${-change}`);
  }
  return el("span", { class: "same", title: t("rank_same") }, "–");
}

function groupBars(groups) {
  const byKey = new Map((groups || []).map((g) => [g.key, g]));
  const keys = [...GROUPS, ...[...byKey.keys()].filter((k) => !GROUPS.includes(k))];
  return el("div", { class: "gbars" }, keys.map((key) => {
    const g = byKey.get(key);
    const name = t(`group.${key}`);
    if (!g || !g.measured_max) {
      return el("span", { class: "gbar nm", title: `${name}: ${t("not_measured")}` });
    }
    const pct = Math.max(0, Math.min(100, (100 * g.points) / g.measured_max));
    const title = `${name}: ${fmtNum(g.points, 1)} / ${fmtNum(g.measured_max, 1)}`;
    return el("span", { class: "gbar", title, "aria-label": title },
      el("span", { class: "fill", style: `height:${pct.toFixed(1)}%` }));
  }));
}

function sortedEntries(entries) {
  const rank = (e) => (e.rank === null || e.rank === undefined ? Infinity : e.rank);
  return [...entries].sort((a, b) => rank(a) - rank(b)
    || unitName(a.unit_code, a).localeCompare(unitName(b.unit_code, b), locale()));
}

function renderRanking(level, flash) {
  const tbody = $(`#ranking-${level} tbody`);
  const data = S.rankings[level];
  if (!data || !data.entries.length) {
    tbody.replaceChildren(el("tr", { class: "empty" },
      el("td", { colspan: 6 }, data ? t("no_ranking") : t("loading"))));
    return;
  }
  const selected = S.drill && S.drill.code;
  tbody.replaceChildren(...sortedEntries(data.entries).map((e) => {
    const measured = e.score_100 !== null && e.score_100 !== undefined;
    const cls = [flash.has(e.unit_code) ? "flash" : "", selected === e.unit_code ? "selected" : ""];
    return el("tr", {
      "data-unit": e.unit_code, "data-rank": e.rank ?? "", tabindex: 0,
      class: cls.filter(Boolean).join(" ") || null,
      "aria-selected": selected === e.unit_code ? "true" : null,
    },
    el("td", { class: "rank" }, e.rank ?? "–"),
    el("td", { class: "unit", title: e.unit_code }, unitName(e.unit_code, e)),
    el("td", { class: measured ? "score" : "score nm" },
      measured ? fmtNum(e.score_100, 1) : t("not_measured")),
    el("td", { class: "band" }, bandChip(e.band)),
    el("td", { class: "change" }, changeCell(e.change)),
    el("td", { class: "groups" }, groupBars(e.groups)));
  }));
}

function alertDetail(a) {
  const d = a.details || {};
  const bits = [];
  if (a.dossier_code) bits.push(el("code", {}, a.dossier_code));
  if (d.due_at) bits.push(t("due_at", { t: fmtTime(d.due_at) }));
  if (typeof d.remaining_working_minutes === "number") {
    bits.push(t("remaining", { h: fmtNum(d.remaining_working_minutes / 60, 1) }));
  }
  if (a.kind === "multiple_supplements" && d.supplement_count) {
    bits.push(t("supplements", { n: d.supplement_count }));
  }
  if (typeof d.reason === "string" && d.reason) bits.push(d.reason);
  const out = [];
  bits.forEach((b, i) => { if (i) out.push(" · "); out.push(b); });
  return out;
}

function renderAlerts(flash) {
  const list = $("#alerts");
  const alerts = [...S.alerts.values()]
    .sort((a, b) => Date.parse(b.raised_at) - Date.parse(a.raised_at)).slice(0, 50);
  if (!alerts.length) {
    list.replaceChildren(el("li", { class: "empty" },
      t(S.alertsDenied ? "alerts_denied" : "alerts_empty")));
    return;
  }
  list.replaceChildren(...alerts.map((a) => el("li", {
    "data-key": a.key, "data-kind": a.kind, "data-state": a.state,
    class: [flash.has(a.key) ? "flash" : "", a.state !== "open" ? "closed" : ""]
      .filter(Boolean).join(" ") || null,
  },
  el("span", { class: `kind kind-${a.kind}` }, t(`kind.${a.kind}`)),
  el("div", { class: "a-body" },
    el("div", { class: "a-unit" }, unitName(a.unit_code)),
    el("div", { class: "a-meta" }, ...alertDetail(a))),
  el("div", { class: "a-side" },
    el("time", { datetime: a.raised_at }, fmtTime(a.raised_at)),
    a.state !== "open" ? el("span", { class: "a-state" }, t(`state.${a.state}`)) : null))));
}

// -- drill-down --------------------------------------------------------------------------

async function openDrill(code) {
  S.drill = { code, scorecard: null, overdue: null, error: null };
  const period = S.period;
  renderDrill();
  LEVELS.forEach((level) => renderRanking(level, new Set()));
  $("#drilldown").scrollIntoView({ block: "nearest" }); // single column: it sits above
  const q = new URLSearchParams({ scheme: SCHEME, period });
  const enc = encodeURIComponent(code);
  const [card, overdue] = await Promise.allSettled([
    api(`/api/v1/units/${enc}/scorecard?${q}`),
    api(`/api/v1/dossiers?state=overdue&unit=${enc}&limit=50`),
  ]);
  if (!S.drill || S.drill.code !== code || period !== S.period) return;
  S.drill.scorecard = card.status === "fulfilled" ? card.value : null;
  S.drill.overdue = overdue.status === "fulfilled" ? itemsOf(overdue.value) : null;
  const failed = [card, overdue].find((r) => r.status === "rejected");
  S.drill.error = failed ? failed.reason.message : null;
  renderDrill();
}

function closeDrill() {
  const code = S.drill && S.drill.code;
  S.drill = null;
  renderDrill();
  LEVELS.forEach((level) => renderRanking(level, new Set()));
  const row = code && document.querySelector(`tr[data-unit="${CSS.escape(code)}"]`);
  if (row) row.focus();
}

function rankingEntry(code) {
  for (const level of LEVELS) {
    const e = S.rankings[level] && S.rankings[level].entries.find((x) => x.unit_code === code);
    if (e) return e;
  }
  return null;
}

function scorecardRow(line) {
  const name = t(`indicator.${line.key}`);
  if (!line.measured) {
    return el("tr", { "data-indicator": line.key, class: "nm" },
      el("td", {}, name, line.reason ? el("div", { class: "reason" }, line.reason) : null),
      el("td", { class: "num", colspan: 3 }, t("not_measured")),
      el("td", { class: "num" }, `– / ${fmtNum(line.max_points, 1)}`));
  }
  const ratio = line.denominator === null || line.denominator === undefined ? "–"
    : `${fmtNum(line.numerator ?? 0)} / ${fmtNum(line.denominator)}`;
  return el("tr", { "data-indicator": line.key },
    el("td", {}, name),
    el("td", { class: "num" }, ratio),
    el("td", { class: "num" }, fmtPct(line.rate)),
    el("td", { class: "num" }, line.target === null || line.target === undefined
      ? "–" : fmtPct(line.target, 0)),
    el("td", { class: "num" },
      `${fmtNum(line.points ?? 0, 1)} / ${fmtNum(line.max_points, 1)}`));
}

function dossierItems(list, render) {
  if (list === null) return [el("li", { class: "empty" }, "–")];
  if (!list.length) return [el("li", { class: "empty" }, t("none"))];
  return list.map(render);
}

function renderDrill() {
  const panel = $("#drilldown");
  document.body.classList.toggle("drill-open", !!S.drill);
  if (!S.drill) { panel.hidden = true; return; }
  panel.hidden = false;
  const { code, scorecard: sc, overdue } = S.drill;
  const entry = rankingEntry(code);
  $("#drilldown-title").textContent = unitName(code, sc || entry);
  const src = sc || entry || {};
  const measured = src.score_100 !== null && src.score_100 !== undefined;
  $("#drilldown-summary").textContent = S.drill.error
    ? t("load_error", { e: S.drill.error })
    : t("summary", {
      s: measured ? fmtNum(src.score_100, 1) : t("not_measured"),
      b: src.band ? t(`band.${src.band}`) : "–",
      r: entry && entry.rank ? entry.rank : "–",
    });
  const body = $("#scorecard tbody");
  if (!sc) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 5 }, S.drill.error ? "–" : t("loading"))));
  } else {
    body.replaceChildren(...(sc.lines || []).map(scorecardRow));
  }
  $("#costly-total").textContent = sc ? t("costly_total", { n: sc.costly_total ?? 0 }) : "";
  $("#costly").replaceChildren(...dossierItems(sc ? sc.costly || [] : null, (c) => el("li",
    { "data-dossier": c.dossier_code }, el("code", {}, c.dossier_code), " ",
    el("span", { class: "muted" }, (c.indicators || []).map((k) => t(`indicator.${k}`)).join(", ")))));
  $("#overdue-dossiers").replaceChildren(...dossierItems(overdue, (d) => el("li",
    { "data-dossier": d.dossier_code }, el("code", {}, d.dossier_code), " ",
    el("span", { class: "muted" },
      [d.procedure_code, d.due_at ? t("due_at", { t: fmtTime(d.due_at) }) : null]
        .filter(Boolean).join(" · ")))));
}

// -- live stream ---------------------------------------------------------------------------

const stream = { es: null, retryMs: 2000, sawHeartbeat: false, lastMessageAt: 0, timer: null };

function setConn(state) {
  if (S.conn !== state) { S.conn = state; renderConn(); }
}

function parse(ev) {
  stream.lastMessageAt = Date.now();
  try { return JSON.parse(ev.data); } catch (_) { return null; }
}

function onRanking(ev) {
  const data = parse(ev);
  if (!data || !LEVELS.includes(data.level) || data.period !== S.period) return;
  if (data.scheme && data.scheme !== SCHEME) return;
  const current = S.rankings[data.level];
  if (current && typeof current.version === "number" && typeof data.version === "number"
      && data.version <= current.version) return; // a snapshot we already show
  const before = new Map(((current && current.entries) || []).map((e) => [e.unit_code, e]));
  const flash = new Set();
  const entries = (data.entries || []).map((e) => {
    const old = before.get(e.unit_code);
    if (!old || old.rank !== e.rank || old.score_100 !== e.score_100) flash.add(e.unit_code);
    // Stream entries carry no names: keep the ones the REST answer had.
    return old ? { unit_name: old.unit_name, unit_name_en: old.unit_name_en, ...e } : e;
  });
  S.rankings[data.level] = { version: data.version, entries };
  renderRanking(data.level, flash);
  if (S.drill) renderDrill();
  touch();
}

function onAlert(ev) {
  const data = parse(ev);
  const a = data && data.alert;
  if (!a || !a.key) return;
  S.alerts.set(a.key, a);
  renderAlerts(new Set(data.type === "notification.alert_raised" ? [a.key] : []));
  touch();
}

function onKpi(ev) {
  const data = parse(ev);
  if (!data) return;
  S.kpis = data;
  followClock();
  renderKpis();
  touch();
}

function connectStream(isRetry) {
  const q = S.token ? `?access_token=${encodeURIComponent(S.token)}` : "";
  const es = new EventSource(`/api/v1/stream${q}`);
  stream.es = es;
  stream.sawHeartbeat = false;
  es.addEventListener("open", () => {
    stream.retryMs = 2000;
    stream.lastMessageAt = Date.now();
    setConn("live");
    // A fresh EventSource has no Last-Event-ID: fetch the state it may have missed.
    if (isRetry) { isRetry = false; loadAll(); }
  });
  es.addEventListener("error", () => {
    if (es.readyState === EventSource.CLOSED) {
      // The browser gave up (an HTTP error): try again ourselves, backing off to 30 s.
      setConn("offline");
      scheduleReconnect();
    } else {
      setConn("reconnecting");
    }
  });
  es.addEventListener("ranking", onRanking);
  es.addEventListener("alert", onAlert);
  es.addEventListener("kpi", onKpi);
  es.addEventListener("heartbeat", () => {
    stream.sawHeartbeat = true;
    stream.lastMessageAt = Date.now();
  });
}

function scheduleReconnect() {
  if (stream.es) stream.es.close();
  stream.es = null;
  clearTimeout(stream.timer);
  stream.timer = setTimeout(() => connectStream(true), stream.retryMs);
  stream.retryMs = Math.min(stream.retryMs * 2, 30000);
}

function watchdog() {
  // Heartbeats come every 15 s; a silent minute means a half-open connection.
  if (stream.es && stream.sawHeartbeat && S.conn === "live"
      && Date.now() - stream.lastMessageAt > 60000) {
    setConn("reconnecting");
    scheduleReconnect();
  }
  followClock();
}

// The wall screen stays up for weeks: roll the period over at midnight, Vietnam time, on the
// platform's clock.
function followClock() {
  const key = periodOptions().find((o) => o.kind === S.periodKind).key;
  if (key !== S.period) { renderPeriodSelect(); reloadPeriod(); }
}

// -- start-up ------------------------------------------------------------------------------

function reloadPeriod() {
  LEVELS.forEach((level) => { S.rankings[level] = null; renderRanking(level, new Set()); });
  Promise.all(LEVELS.map(loadRanking)).then(clearNotice, reportError);
  if (S.drill) openDrill(S.drill.code);
}

function readToken() {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    // Keep the token out of the address bar, bookmarks and screenshots.
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
  return fromUrl || sessionStorage.getItem(TOKEN_KEY);
}

function rowFromEvent(ev) {
  const row = ev.target.closest("tr[data-unit]");
  return row && row.closest("table[data-level]") ? row : null;
}

function bind() {
  $("#lang-toggle").addEventListener("click", () => {
    S.lang = S.lang === "vi" ? "en" : "vi";
    localStorage.setItem(LANG_KEY, S.lang);
    renderAll();
  });
  $("#period").addEventListener("change", (ev) => {
    S.periodKind = ev.target.selectedOptions[0].dataset.kind;
    localStorage.setItem(PERIOD_KEY, S.periodKind);
    S.period = ev.target.value;
    reloadPeriod();
  });
  for (const level of LEVELS) {
    const table = $(`#ranking-${level}`);
    table.addEventListener("click", (ev) => {
      const row = rowFromEvent(ev);
      if (row) openDrill(row.dataset.unit);
    });
    table.addEventListener("keydown", (ev) => {
      const row = rowFromEvent(ev);
      if (row && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); openDrill(row.dataset.unit); }
    });
  }
  $("#drilldown-close").addEventListener("click", closeDrill);
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape" && S.drill) closeDrill(); });
}

async function start() {
  S.lang = localStorage.getItem(LANG_KEY) === "en" ? "en" : "vi";
  S.periodKind = localStorage.getItem(PERIOD_KEY) || "month";
  S.token = readToken();
  bind();
  renderAll();
  connectStream(false);
  setInterval(watchdog, 5000);
  try {
    await loadUnits();
  } catch (err) {
    reportError(err); // names then come from the ranking answers alone
  }
  await loadAll();
}

document.addEventListener("DOMContentLoaded", start);
