// The dashboard of user-metrics-http: one page that reads the JSON routes with a
// reader token and draws them with uPlot. The token lives in this page's memory
// only: never in the address, in storage or in a cookie, so reloading the page
// asks for it again.
//
// The settings of the view (from, to, tz, per, week_ending, user) may be given
// in the address, e.g. /dashboard?from=2026-11-01&to=2026-11-30&tz=Europe/Berlin.
//
// What each chart plots is kept in window.dashboard.charts (uPlot instances:
// .data holds the arrays drawn) with the labels beside them, so that a test can
// compare it with the JSON routes.
"use strict";

(function () {
  const state = {
    token: null,
    charts: {},
    labels: {},
    status: "login",
    error: null,
  };
  window.dashboard = state;

  const $ = (id) => document.getElementById(id);

  // ---- Talking to the server ------------------------------------------------

  class Refused extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function get(path) {
    const response = await fetch(path, {
      headers: { Authorization: "Bearer " + state.token, Accept: "application/json" },
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Refused(response.status, body.message || response.statusText);
    }
    return body;
  }

  function query(parameters) {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(parameters)) {
      if (value !== undefined && value !== null && value !== "") search.set(name, value);
    }
    return search.toString();
  }

  // ---- Dates and time zones -------------------------------------------------

  const DAY = 86400;

  // "2026-11-16" as seconds since the epoch at UTC midnight: the charts of days
  // draw their axis in UTC, so that each point sits on its own calendar day.
  function dayToSeconds(day) {
    const [y, m, d] = day.split("-").map(Number);
    return Date.UTC(y, m - 1, d) / 1000;
  }

  function secondsToDay(seconds) {
    return new Date(seconds * 1000).toISOString().slice(0, 10);
  }

  function addDays(day, days) {
    return secondsToDay(dayToSeconds(day) + days * DAY);
  }

  // Today's date in a time zone.
  function today(tz) {
    return new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" })
      .format(new Date());
  }

  // Local midnight of `day` in `tz` as an ISO 8601 timestamp with its offset,
  // e.g. 2026-11-16T00:00:00+01:00.
  function localMidnight(day, tz) {
    const noon = new Date(dayToSeconds(day) * 1000 + 12 * 3600 * 1000);
    const name = new Intl.DateTimeFormat("en-US", { timeZone: tz, timeZoneName: "longOffset" })
      .formatToParts(noon).find((part) => part.type === "timeZoneName").value;
    const offset = name === "GMT" ? "+00:00" : name.replace("GMT", "");
    return day + "T00:00:00" + offset;
  }

  function validTimeZone(tz) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: tz });
      return true;
    } catch (e) {
      return false;
    }
  }

  // ---- Formatting ------------------------------------------------------------

  // Seconds as "1h 05m", "12m 30s" or "45s".
  function duration(seconds) {
    const s = Math.round(seconds);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    if (h > 0) return h + "h " + String(m).padStart(2, "0") + "m";
    if (m > 0) return m + "m " + String(r).padStart(2, "0") + "s";
    return r + "s";
  }

  // Axis steps for durations: whole minutes and hours.
  const DURATION_STEPS = [1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

  function shorten(text, length) {
    return text.length > length ? text.slice(0, length - 1) + "…" : text;
  }

  function cell(row, text) {
    const td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }

  function fillTable(table, rows) {
    const body = table.querySelector("tbody");
    body.replaceChildren();
    for (const cells of rows) {
      const tr = document.createElement("tr");
      for (const text of cells) cell(tr, text);
      body.appendChild(tr);
    }
  }

  // ---- Charts ----------------------------------------------------------------

  const COLORS = ["#2f6fb3", "#d9822b", "#3a9a5b", "#b83b5e", "#7b5ea7", "#8c6d31", "#17becf", "#7f7f7f"];

  function width(container) {
    return Math.max(320, container.clientWidth || 560);
  }

  // Draws (or redraws) the chart `name` in its panel.
  function draw(name, options, data) {
    const container = $(name + "-chart");
    if (state.charts[name]) state.charts[name].destroy();
    container.replaceChildren();
    options.width = width(container);
    options.height = 260;
    state.charts[name] = new uPlot(options, data, container);
  }

  const utc = (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC");

  function durationAxis(label) {
    return { label, scale: "s", incrs: DURATION_STEPS, values: (u, splits) => splits.map(duration), size: 70 };
  }

  function drawWeekly(rows, weekEnding, tz) {
    $("weekly-caption").textContent = "the seven days before " + weekEnding + " (" + tz + ")";
    const labels = rows.map((r) => r.name || r.email);
    state.labels.weekly = rows.map((r) => r.email);
    const x = rows.map((_, i) => i);
    draw("weekly", {
      scales: { x: { time: false, range: [-0.5, Math.max(rows.length - 0.5, 0.5)] }, s: { range: (u, min, max) => [0, Math.max(max, 60)] } },
      axes: [
        // One label per bar, shortened: the table below gives them whole.
        { incrs: [1], space: 10, rotate: -30, size: 70,
          values: (u, splits) => splits.map((i) => (Number.isInteger(i) && labels[i] ? shorten(labels[i], 16) : "")) },
        durationAxis("talked time"),
      ],
      series: [
        {},
        { label: "talked time", scale: "s", stroke: COLORS[0], fill: COLORS[0] + "99", width: 1,
          paths: uPlot.paths.bars({ size: [0.6, 80] }), points: { show: false }, value: (u, v) => (v == null ? "" : duration(v)) },
      ],
      legend: { show: false },
    }, [x, rows.map((r) => Number(r.total_talked_time))]);
    fillTable($("weekly-table"), rows.map((r, i) => [
      String(i + 1), r.name ? r.name + " <" + r.email + ">" : r.email, String(r.session_count), duration(r.total_talked_time),
    ]));
  }

  function drawActivity(rows, per, tz) {
    $("activity-caption").textContent = per + " (" + tz + ")";
    draw("activity", {
      tzDate: utc,
      scales: { x: { time: true }, s: { range: (u, min, max) => [0, Math.max(max, 60)] }, n: { range: (u, min, max) => [0, Math.max(max, 1)] } },
      axes: [{}, durationAxis("talked time"), { label: "sessions", scale: "n", side: 1, grid: { show: false } }],
      series: [
        { value: (u, v) => (v == null ? "" : secondsToDay(v)) },
        { label: "talked time", scale: "s", stroke: COLORS[0], fill: COLORS[0] + "66",
          paths: uPlot.paths.bars({ size: [0.7, 60] }), points: { show: false }, value: (u, v) => (v == null ? "" : duration(v)) },
        { label: "sessions", scale: "n", stroke: COLORS[1], width: 2 },
      ],
    }, [rows.map((r) => dayToSeconds(r.period_start)), rows.map((r) => Number(r.total_talked_time)), rows.map((r) => r.session_count)]);
  }

  function drawSessions(rows, user, tz) {
    $("sessions-caption").textContent = user ? user + " (times in " + tz + ")" : "nobody (no user chosen)";
    state.labels.sessions = rows.map((r) => r.session_id);
    draw("sessions", {
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), tz),
      scales: { x: { time: true }, s: { range: (u, min, max) => [0, Math.max(max, 60)] } },
      axes: [{}, durationAxis("talked time")],
      series: [
        {},
        { label: "talked time", scale: "s", stroke: COLORS[2], fill: COLORS[2] + "99",
          paths: uPlot.paths.bars({ size: [0.5, 14] }), points: { show: true, size: 6, fill: COLORS[2] },
          value: (u, v) => (v == null ? "" : duration(v)) },
      ],
    }, [rows.map((r) => Date.parse(r.started_at) / 1000), rows.map((r) => Number(r.talked_time))]);
    const local = new Intl.DateTimeFormat("en-GB", { timeZone: tz, dateStyle: "medium", timeStyle: "short" });
    fillTable($("sessions-table"), rows.map((r) => [
      r.session_id, local.format(new Date(r.started_at)), String(r.event_count), duration(r.talked_time),
    ]));
  }

  // `rows` are the days of [first, last] (UTC) with calls; the axis shows every
  // day of the window.
  function drawIngestion(rows, first, last) {
    const codes = [...new Set(rows.flatMap((r) => Object.keys(r.rejected_by_code)))].sort();
    state.labels.ingestion = ["accepted", "duplicates"].concat(codes.map((c) => "rejected: " + c));
    const points = (color) => ({ show: true, size: 7, fill: color });
    const series = [{ value: (u, v) => (v == null ? "" : secondsToDay(v)) },
      { label: "accepted", stroke: COLORS[2], width: 2, points: points(COLORS[2]) },
      { label: "duplicates", stroke: COLORS[0], width: 2, points: points(COLORS[0]) }];
    codes.forEach((code, i) => {
      const color = COLORS[3 + (i % 5)];
      series.push({ label: "rejected: " + code, stroke: color, width: 2, dash: [6, 3], points: points(color) });
    });
    const data = [rows.map((r) => dayToSeconds(r.day)), rows.map((r) => r.accepted), rows.map((r) => r.duplicates)];
    for (const code of codes) data.push(rows.map((r) => r.rejected_by_code[code] || 0));
    draw("ingestion", {
      tzDate: utc,
      scales: {
        x: { time: true, range: [dayToSeconds(first) - DAY / 2, dayToSeconds(last) + DAY / 2] },
        y: { range: (u, min, max) => [0, Math.max(max, 1)] },
      },
      axes: [{}, { label: "events" }],
      series,
    }, data);
  }

  function showHealth(health) {
    state.health = health;
    const line = $("health");
    line.hidden = false;
    line.textContent = "database " + health.status + " · user_metrics " + health.version + " · PostgreSQL " + health.postgres;
    line.className = "health " + (health.status === "ok" ? "ok" : "bad");
    const details = $("health-details");
    details.replaceChildren();
    for (const key of ["users", "sessions", "events", "rejected", "last_received_at"]) {
      const dt = document.createElement("dt");
      dt.textContent = key === "rejected" ? "in the quarantine" : key.replaceAll("_", " ");
      const dd = document.createElement("dd");
      dd.id = "health-" + key;
      dd.textContent = health[key] == null ? "—" : String(health[key]);
      details.append(dt, dd);
    }
  }

  // ---- The view's settings ---------------------------------------------------

  function settingsFromForm() {
    return {
      from: $("from").value, to: $("to").value, tz: $("tz").value.trim(), per: $("per").value,
      weekEnding: $("week-ending").value, user: $("user").value.trim(),
    };
  }

  function initialSettings() {
    const given = new URLSearchParams(location.search || location.hash.slice(1));
    const browserTz = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    const tz = given.get("tz") || browserTz;
    const to = given.get("to") || today(validTimeZone(tz) ? tz : "UTC");
    const from = given.get("from") || addDays(to, -27);
    $("from").value = from;
    $("to").value = to;
    $("tz").value = tz;
    $("per").value = given.get("per") === "week" ? "week" : "day";
    $("week-ending").value = given.get("week_ending") || addDays(to, 1);
    $("user").value = given.get("user") || "";
  }

  // ---- Loading ---------------------------------------------------------------

  async function load() {
    const s = settingsFromForm();
    const error = $("board-error");
    error.hidden = true;
    if (!validTimeZone(s.tz)) {
      error.textContent = "Unknown time zone: " + s.tz;
      error.hidden = false;
      return;
    }
    state.status = "loading";
    try {
      showHealth(await get("/health"));
      const weekly = await get("/reports/weekly?" + query({ week_ending: s.weekEnding, tz: s.tz }));
      drawWeekly(weekly, s.weekEnding, s.tz);
      const activity = await get("/reports/activity?" + query({ from: s.from, to: s.to, tz: s.tz, per: s.per }));
      drawActivity(activity, s.per, s.tz);
      const user = s.user || (weekly[0] && weekly[0].email) || "";
      state.user = user;
      let sessions = [];
      if (user) {
        sessions = await get("/users/" + encodeURIComponent(user) + "/sessions?" + query({
          since: localMidnight(s.from, s.tz), until: localMidnight(addDays(s.to, 1), s.tz),
        }));
      }
      drawSessions(sessions, user, s.tz);
      const lastDay = today("UTC");
      const firstDay = addDays(lastDay, -29);
      drawIngestion(await get("/reports/ingestion?" + query({ from: firstDay, to: lastDay })), firstDay, lastDay);
      state.status = "ready";
    } catch (e) {
      if (e instanceof Refused && (e.status === 401 || e.status === 403)) {
        signOut("This token cannot read the reports: " + e.message);
        return;
      }
      state.status = "error";
      state.error = e.message;
      error.textContent = e.message;
      error.hidden = false;
    }
  }

  // ---- Signing in and out ----------------------------------------------------

  function signOut(message) {
    state.token = null;
    for (const chart of Object.values(state.charts)) chart.destroy();
    state.charts = {};
    state.labels = {};
    state.health = null;
    state.status = "login";
    $("board").hidden = true;
    $("sign-out").hidden = true;
    $("health").hidden = true;
    $("login").hidden = false;
    $("token").value = "";
    const error = $("login-error");
    error.textContent = message || "";
    error.hidden = !message;
    $("token").focus();
  }

  async function signIn(event) {
    event.preventDefault();
    // The previous attempt's message no longer applies while this one is checked.
    const error = $("login-error");
    error.textContent = "";
    error.hidden = true;
    const token = $("token").value.trim();
    $("token").value = "";
    state.token = token;
    state.status = "checking";
    try {
      // A reader token gets the whole health() document; any other is refused.
      const health = await get("/health");
      $("login").hidden = true;
      $("board").hidden = false;
      $("sign-out").hidden = false;
      showHealth(health);
      await load();
    } catch (e) {
      signOut(e instanceof Refused && e.status === 401 ? "Unknown token." :
        e instanceof Refused && e.status === 403 ? "This token cannot read the reports: " + e.message :
          "The server did not answer: " + e.message);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    initialSettings();
    $("login-form").addEventListener("submit", signIn);
    $("controls").addEventListener("submit", (event) => {
      event.preventDefault();
      load();
    });
    $("sign-out").addEventListener("click", () => signOut(""));
    signOut("");
  });
})();
