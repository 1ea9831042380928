// Chart view: candles and volume of any instrument, overlays and panes whose values come from
// the server's indicator routes (history on load, the indicator stream live — never computed
// here), the forming bar and bar closes from the stream, paper fills as markers. Times are
// shown in IST: lightweight-charts draws UTC, so every time is shifted by +5:30 before it is
// handed to the chart.
import {
  createChart,
  CandlestickSeries,
  HistogramSeries,
  LineSeries,
  createSeriesMarkers,
  CrosshairMode,
  LineStyle,
} from "lightweight-charts";
import { h, replace, fmt, count, debounce } from "./dom.js";
import { Stream } from "./ws.js";
import { primaryAccount } from "./account.js";
import { IST_OFFSET, istEpoch, istText } from "./ist.js";

const toChart = (t) => t + IST_OFFSET;
const fromChart = (t) => t - IST_OFFSET;

const UP = "#26a69a";
const DOWN = "#ef5350";

// What the page offers. `lines`: output name → colour (`hist` draws a histogram); ids are the
// server's indicator ids.
const OVERLAYS = [
  { id: "SMA_20", label: "SMA 20", lines: { value: "#f5c542" } },
  { id: "EMA_20", label: "EMA 20", lines: { value: "#42a5f5" } },
  { id: "BBANDS_20_2", label: "BB 20,2", lines: { upper: "#ab47bc", middle: "#7e57c2", lower: "#ab47bc" } },
  { id: "VWAP", label: "VWAP", lines: { value: "#ff9800" } },
  { id: "SUPERTREND_10_3", label: "SuperTrend 10,3", lines: { value: "supertrend" } },
];
const PANES = [
  { id: "RSI_14", label: "RSI 14", lines: { value: "#7e57c2" }, levels: [30, 70] },
  { id: "MACD_12_26_9", label: "MACD 12,26,9", lines: { macd: "#42a5f5", signal: "#ff9800", histogram: "hist" } },
  { id: "ATR_14", label: "ATR 14", lines: { value: "#26c6da" } },
  { id: "ADX_14", label: "ADX 14", lines: { adx: "#f5c542", plus_di: UP, minus_di: DOWN } },
  { id: "STOCH_14_3_3", label: "Stoch 14,3,3", lines: { k: "#42a5f5", d: "#ff9800" }, levels: [20, 80] },
];
const BARS = 500;
const PREFS = "stocksblitz.chart";

export class ChartView {
  constructor(api, el, shared, symbol) {
    this.api = api;
    this.el = el;
    this.shared = shared;
    const prefs = loadPrefs();
    this.symbol = symbol || prefs.symbol || "NIFTY 50";
    this.timeframe = prefs.timeframe || "5m";
    this.overlays = new Set(prefs.overlays || ["EMA_20"]);
    this.panes = new Set(prefs.panes || ["RSI_14"]);
    this.timeframes = [];
    this.chart = null;
    this.stream = null;
    this.orders = null;
    this.generation = 0;
    this.updates = 0;
    this.build();
    this.init();
  }

  build() {
    this.search = h("input", {
      id: "symbol",
      type: "search",
      value: this.symbol,
      autocomplete: "off",
      "aria-label": "Instrument",
      placeholder: "Search instruments",
      oninput: debounce(() => this.suggest(), 150),
      onkeydown: (ev) => {
        if (ev.key === "Enter") {
          ev.preventDefault();
          const first = this.results.querySelector("li");
          this.open(first ? first.dataset.symbol : this.search.value.trim());
        } else if (ev.key === "Escape") this.results.hidden = true;
      },
    });
    this.results = h("ul", { class: "results", id: "symbol-results", hidden: true });
    this.tfBar = h("div", { class: "segmented", id: "timeframes", role: "group", "aria-label": "Timeframe" });
    this.menu = h("details", { class: "menu", id: "indicator-menu" },
      h("summary", {}, "Indicators"),
      h("div", { class: "menu-body" },
        h("strong", {}, "Overlays"),
        OVERLAYS.map((o) => this.toggle(o, this.overlays)),
        h("strong", {}, "Panes"),
        PANES.map((p) => this.toggle(p, this.panes)),
      ),
    );
    this.legend = h("div", { class: "legend", id: "legend" });
    this.status = h("span", { class: "status muted", id: "chart-status" }, "loading…");
    this.box = h("div", { class: "chart", id: "chart" });
    replace(
      this.el,
      h("div", { class: "toolbar" },
        h("div", { class: "search" }, this.search, this.results),
        this.tfBar,
        this.menu,
        this.status,
      ),
      this.legend,
      this.box,
    );
  }

  toggle(def, set) {
    return h("label", { class: "check" },
      h("input", {
        type: "checkbox",
        value: def.id,
        checked: set.has(def.id),
        onchange: (ev) => {
          if (ev.target.checked) set.add(def.id);
          else set.delete(def.id);
          this.save();
          this.load();
        },
      }),
      def.label,
    );
  }

  async init() {
    try {
      const list = await this.api.get("/indicators/list");
      this.timeframes = list.timeframes || [];
    } catch {
      this.timeframes = ["1m", "5m", "15m", "1h", "1d"];
    }
    this.renderTimeframes();
    this.account = await primaryAccount(this.api).catch(() => null);
    this.load();
    if (this.account) {
      this.orders = new Stream(this.api, `/orders/stream?account_id=${this.account.account_id}`, {
        onMessage: (m) => {
          if (m.type === "trade") this.addFill(m.data);
        },
      });
    }
  }

  renderTimeframes() {
    replace(
      this.tfBar,
      this.timeframes.map((tf) =>
        h("button", {
          class: tf === this.timeframe ? "active" : "",
          dataset: { tf },
          "aria-pressed": tf === this.timeframe ? "true" : "false",
          onclick: () => {
            this.timeframe = tf;
            this.save();
            this.renderTimeframes();
            this.load();
          },
        }, tf),
      ),
    );
  }

  async suggest() {
    const q = this.search.value.trim();
    if (!q) {
      this.results.hidden = true;
      return;
    }
    try {
      const items = await this.api.get("/search", { query: q, limit: 12 });
      replace(
        this.results,
        items.map((it) =>
          h("li", {
            dataset: { symbol: it.symbol },
            onmousedown: (ev) => {
              ev.preventDefault();
              this.open(it.symbol);
            },
          }, h("b", {}, it.symbol), h("span", { class: "muted small" }, ` ${it.exchange} · ${it.type}`)),
        ),
      );
      this.results.hidden = items.length === 0;
    } catch {
      this.results.hidden = true;
    }
  }

  // Show an instrument (also called from the other views).
  open(symbol) {
    if (!symbol) return;
    this.symbol = symbol;
    this.search.value = symbol;
    this.results.hidden = true;
    this.save();
    this.load();
  }

  save() {
    sessionStorage.setItem(
      PREFS,
      JSON.stringify({ symbol: this.symbol, timeframe: this.timeframe, overlays: [...this.overlays], panes: [...this.panes] }),
    );
  }

  setStatus(text, cls) {
    this.status.textContent = text;
    this.status.className = `status ${cls || "muted"}`;
  }

  // (Re)build the chart for the current symbol, timeframe and indicators.
  async load() {
    const gen = ++this.generation;
    this.stream?.close();
    this.stream = null;
    this.chart?.remove();
    this.chart = null;
    this.setStatus("loading…");
    this.box.dataset.state = "loading";
    const started = performance.now();
    const ids = [...this.overlays, ...this.panes];
    const histories = ids.map((id) =>
      this.api
        .get("/indicators/history", { symbol: this.symbol, timeframe: this.timeframe, indicator: id, lookback: BARS })
        .then((r) => r.series)
        .catch((e) => ({ error: e.message })),
    );
    let candles;
    try {
      candles = await this.api.get("/candles", { symbol: this.symbol, timeframe: this.timeframe, limit: BARS });
    } catch (e) {
      if (gen !== this.generation) return;
      this.setStatus(e.message, "error");
      this.box.dataset.state = "error";
      return;
    }
    if (gen !== this.generation) return;
    this.symbol = candles.symbol;
    this.search.value = candles.symbol;
    this.bars = candles.candles;
    this.createChart();
    this.box.dataset.bars = String(this.bars.length);
    this.box.dataset.firstCandlesMs = String(Math.round(performance.now() - started));
    // Since the navigation started (what a user waits for on opening the page).
    this.box.dataset.readyAt = String(Math.round(performance.now()));
    this.box.dataset.state = "ready";
    this.setStatus(this.bars.length ? `${this.bars.length} bars` : "no bars yet");
    const results = await Promise.all(histories);
    if (gen !== this.generation) return;
    ids.forEach((id, i) => this.addIndicator(id, results[i]));
    this.renderLegend();
    this.loadFills(gen);
    this.subscribe(ids);
  }

  createChart() {
    const dark = matchMedia("(prefers-color-scheme: dark)").matches;
    this.chart = createChart(this.box, {
      autoSize: true,
      layout: {
        background: { color: dark ? "#131722" : "#ffffff" },
        textColor: dark ? "#d1d4dc" : "#191919",
        // The attribution (TradingView, with a link) is in the page footer: the logo would need an
        // inline <style>, which the page's CSP refuses.
        attributionLogo: false,
        panes: { separatorColor: dark ? "#2a2e39" : "#e0e3eb" },
      },
      grid: {
        vertLines: { color: dark ? "#1e222d" : "#f0f3fa" },
        horzLines: { color: dark ? "#1e222d" : "#f0f3fa" },
      },
      crosshair: { mode: CrosshairMode.Normal },
      timeScale: { timeVisible: this.timeframe !== "1d", secondsVisible: false, rightOffset: 5 },
      localization: { locale: "en-IN" },
    });
    this.candles = this.chart.addSeries(CandlestickSeries, {
      upColor: UP,
      downColor: DOWN,
      borderVisible: false,
      wickUpColor: UP,
      wickDownColor: DOWN,
    });
    this.volume = this.chart.addSeries(HistogramSeries, {
      priceFormat: { type: "volume" },
      priceScaleId: "volume",
      lastValueVisible: false,
      priceLineVisible: false,
    });
    this.volume.priceScale().applyOptions({ scaleMargins: { top: 0.82, bottom: 0 } });
    this.candles.setData(this.bars.map(candle));
    this.volume.setData(this.bars.map(volumeBar));
    // The last 150 bars in view (all of them when fewer).
    if (this.bars.length > 150) {
      this.chart.timeScale().setVisibleLogicalRange({ from: this.bars.length - 150, to: this.bars.length + 5 });
    } else if (this.bars.length) {
      this.chart.timeScale().fitContent();
    }
    this.markers = createSeriesMarkers(this.candles, []);
    this.fills = [];
    this.series = new Map(); // id → {def, lines: {output → series}, last: {time, value}}
    this.nextPane = 1;
    this.chart.subscribeCrosshairMove((p) => this.renderLegend(p));
  }

  addIndicator(id, points) {
    const def = OVERLAYS.find((o) => o.id === id) || PANES.find((p) => p.id === id);
    if (!def || !this.chart) return;
    const overlay = OVERLAYS.includes(def);
    const pane = overlay ? 0 : this.nextPane++;
    const lines = {};
    for (const [out, colour] of Object.entries(def.lines)) {
      const opts = { lastValueVisible: !overlay, priceLineVisible: false, lineWidth: 2, title: "" };
      if (colour === "hist") {
        lines[out] = this.chart.addSeries(HistogramSeries, { ...opts, color: "#78909c" }, pane);
      } else {
        lines[out] = this.chart.addSeries(
          LineSeries,
          { ...opts, color: colour === "supertrend" ? UP : colour, lineWidth: out === "middle" ? 1 : 2 },
          pane,
        );
      }
    }
    if (!overlay) {
      const first = Object.values(lines)[0];
      for (const level of def.levels || []) {
        first.createPriceLine({ price: level, color: "#787b86", lineStyle: LineStyle.Dashed, lineWidth: 1, axisLabelVisible: false });
      }
      this.chart.panes()[pane]?.setHeight(130);
    }
    const entry = { def, lines, last: null, error: null };
    this.series.set(id, entry);
    if (!Array.isArray(points)) {
      entry.error = points?.error || "unavailable";
      return;
    }
    for (const [out, s] of Object.entries(lines)) {
      s.setData(points.map((p) => point(def, out, p.time, outputOf(p, out), p)).filter(Boolean));
    }
    const last = points[points.length - 1];
    if (last) entry.last = { time: last.time, value: valueOf(last) };
  }

  // One update of an indicator at a bar (history point or stream message).
  updateIndicator(id, time, value) {
    const entry = this.series.get(id);
    if (!entry) return;
    const obj = typeof value === "object" && value !== null ? value : { value };
    for (const [out, s] of Object.entries(entry.lines)) {
      const p = point(entry.def, out, time, obj[out], obj);
      if (p) {
        try {
          s.update(p);
        } catch {
          // An update older than the series' last point (a late message): ignored.
        }
      }
    }
    entry.last = { time, value };
  }

  subscribe(ids) {
    const symbol = this.symbol;
    const timeframe = this.timeframe;
    let connects = 0;
    this.stream = new Stream(this.api, "/indicators/stream", {
      onReady: (s) => {
        // After a reconnect, bars may have closed unseen: read the chart again.
        if (++connects > 1) this.load();
        else s.send({ action: "subscribe", symbol, timeframe, mode: "tick", bars: true, indicators: ids });
      },
      onState: (st) => this.setStatus(st === "live" ? `live · ${this.bars.length} bars` : st, st === "live" ? "live" : "muted"),
      onMessage: (m) => {
        if (m.symbol && m.symbol !== symbol) return;
        if (m.type === "bar") this.onBar(m);
        else if (m.type === "indicator_update") this.updateIndicator(m.indicator_id, m.candle_time, m.value);
        else if (m.type === "error") this.setStatus(m.message, "error");
        else return;
        this.updates += 1;
        this.box.dataset.updates = String(this.updates);
        this.box.dataset.lastUpdate = String(Date.now());
        this.renderLegend();
      },
    });
  }

  onBar(m) {
    const last = this.bars[this.bars.length - 1];
    if (last && m.time < last.time) return;
    const bar = { time: m.time, open: m.open, high: m.high, low: m.low, close: m.close, volume: m.volume, complete: m.complete };
    if (last && last.time === m.time) this.bars[this.bars.length - 1] = bar;
    else this.bars.push(bar);
    this.candles.update(candle(bar));
    this.volume.update(volumeBar(bar));
    this.box.dataset.bars = String(this.bars.length);
    this.box.dataset.lastTime = String(m.time);
  }

  async loadFills(gen) {
    if (!this.account) return;
    try {
      const r = await this.api.get(`/accounts/${this.account.account_id}/trades`);
      if (gen !== this.generation) return;
      for (const t of r.data) this.addFill(t, false);
      this.drawFills();
    } catch {
      // No markers when the trades cannot be read; the chart stays.
    }
  }

  addFill(t, draw = true) {
    if (!this.chart || t.tradingsymbol !== this.symbol) return;
    const at = istEpoch(t.fill_timestamp);
    if (at === null) return;
    this.fills.push({ at, side: t.transaction_type, qty: t.quantity, price: t.average_price });
    if (draw) this.drawFills();
  }

  // A fill is drawn on the bar it happened in.
  drawFills() {
    const markers = [];
    for (const f of this.fills) {
      const i = lastAtOrBefore(this.bars, f.at);
      if (i < 0) continue;
      const buy = f.side === "BUY";
      markers.push({
        time: toChart(this.bars[i].time),
        position: buy ? "belowBar" : "aboveBar",
        color: buy ? "#2196f3" : "#e91e63",
        shape: buy ? "arrowUp" : "arrowDown",
        text: `${buy ? "B" : "S"} ${f.qty} @ ${fmt(f.price)}`,
      });
    }
    markers.sort((a, b) => a.time - b.time);
    this.markers.setMarkers(markers);
    this.box.dataset.markers = String(markers.length);
  }

  renderLegend(param) {
    if (!this.chart) return;
    const t = param?.time !== undefined ? fromChart(param.time) : null;
    const bar = t === null ? this.bars[this.bars.length - 1] : this.bars[lastAtOrBefore(this.bars, t)];
    const items = [];
    if (bar) {
      items.push(
        h("span", { class: "legend-item", id: "legend-ohlc" },
          h("b", {}, this.symbol), ` ${this.timeframe} `,
          `O ${fmt(bar.open)} H ${fmt(bar.high)} L ${fmt(bar.low)} C ${fmt(bar.close)} V ${count(bar.volume)} · ${istText(bar.time)} IST`,
        ),
      );
    }
    for (const [id, e] of this.series) {
      let value = e.last?.value;
      let time = e.last?.time;
      if (param?.time !== undefined) {
        const first = Object.values(e.lines)[0];
        const d = param.seriesData.get(first);
        value = d ? undefined : null;
        time = t;
        if (d) {
          value = {};
          for (const [out, s] of Object.entries(e.lines)) value[out] = param.seriesData.get(s)?.value;
          if (Object.keys(value).length === 1 && "value" in value) value = value.value;
        }
      }
      const text = e.error ? e.error : formatValue(value);
      items.push(
        h("span", {
          class: `legend-item${e.error ? " error" : ""}`,
          dataset: {
            id,
            time: time ?? "",
            value: value === undefined ? "" : JSON.stringify(value),
          },
        }, h("b", {}, e.def.label), " ", text),
      );
    }
    replace(this.legend, items);
  }

  destroy() {
    this.generation++;
    this.stream?.close();
    this.orders?.close();
    this.chart?.remove();
  }
}

function loadPrefs() {
  try {
    return JSON.parse(sessionStorage.getItem(PREFS) || "{}");
  } catch {
    return {};
  }
}

function candle(b) {
  return { time: toChart(b.time), open: b.open, high: b.high, low: b.low, close: b.close };
}

function volumeBar(b) {
  return { time: toChart(b.time), value: b.volume || 0, color: b.close >= b.open ? "rgba(38,166,154,0.45)" : "rgba(239,83,80,0.45)" };
}

function outputOf(p, out) {
  return out === "value" && p.value === undefined ? null : p[out];
}

function valueOf(p) {
  const { time, candles_back, ...rest } = p;
  const keys = Object.keys(rest);
  return keys.length === 1 && keys[0] === "value" ? rest.value : rest;
}

// A chart point (whitespace where the value is undefined, so the time axis stays aligned).
function point(def, out, time, v, all) {
  const t = toChart(time);
  if (v === null || v === undefined || Number.isNaN(v)) return { time: t };
  const p = { time: t, value: v };
  if (def.lines[out] === "supertrend") p.color = all.direction < 0 ? DOWN : UP;
  if (def.lines[out] === "hist") p.color = v >= 0 ? "rgba(38,166,154,0.7)" : "rgba(239,83,80,0.7)";
  return p;
}

function formatValue(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") return fmt(v, 2);
  return Object.entries(v)
    .filter(([k]) => k !== "bandwidth" && k !== "percent" && k !== "direction")
    .map(([k, x]) => `${k} ${x === null || x === undefined ? "—" : fmt(x, 2)}`)
    .join("  ");
}

export function lastAtOrBefore(bars, t) {
  let lo = 0;
  let hi = bars.length - 1;
  let ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (bars[mid].time <= t) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}
