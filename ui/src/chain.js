// Option chain view: one expiry of an underlying, calls and puts by strike (LTP, bid/ask, OI
// and its change on the day, IV, delta), the at-the-money strike highlighted, PCR and max pain —
// all as /fo/option-chain computes them. Live: the underlying's quote stream
// (/monitor/stream) says when something changed, and the chain is re-read (at most twice a
// second).
import { h, replace, fmt, count, throttle } from "./dom.js";
import { Stream } from "./ws.js";
import { istTime } from "./ist.js";

const UNDERLYINGS = ["NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY", "SENSEX"];
const PREFS = "stocksblitz.chain";

export class ChainView {
  constructor(api, el, shared) {
    this.api = api;
    this.el = el;
    this.shared = shared;
    this.destroyed = false;
    const prefs = JSON.parse(sessionStorage.getItem(PREFS) || "{}");
    this.underlying = prefs.underlying || "NIFTY";
    this.expiry = null;
    this.build();
    this.selectUnderlying(this.underlying);
  }

  build() {
    this.under = h("select", { id: "c-underlying", "aria-label": "Underlying", onchange: () => this.selectUnderlying(this.under.value) },
      UNDERLYINGS.map((u) => h("option", { value: u, selected: u === this.underlying }, u)));
    this.expiries = h("select", { id: "c-expiry", "aria-label": "Expiry", onchange: () => { this.expiry = this.expiries.value; this.load(); } });
    this.stats = h("div", { class: "stats", id: "c-stats" });
    this.status = h("span", { class: "status muted", id: "c-status" });
    this.body = h("tbody", { id: "chain-body" });
    replace(
      this.el,
      h("div", { class: "toolbar" }, this.under, this.expiries, this.stats, this.status),
      h("div", { class: "table-wrap chain-wrap" },
        h("table", { class: "chain", id: "chain" },
          h("thead", {},
            h("tr", {}, h("th", { colspan: 7, class: "calls" }, "Calls"), h("th", {}, ""), h("th", { colspan: 7, class: "puts" }, "Puts")),
            h("tr", {},
              ["OI", "ΔOI", "IV", "Δ", "Bid", "Ask", "LTP"].map((x) => h("th", { class: "calls" }, x)),
              h("th", { class: "strike" }, "Strike"),
              ["LTP", "Bid", "Ask", "Δ", "IV", "ΔOI", "OI"].map((x) => h("th", { class: "puts" }, x)),
            ),
          ),
          this.body,
        ),
      ),
    );
  }

  async selectUnderlying(u) {
    this.underlying = u;
    sessionStorage.setItem(PREFS, JSON.stringify({ underlying: u }));
    this.stream?.close();
    replace(this.body);
    try {
      const e = await this.api.get("/fo/expiries", { underlying: u });
      const all = [...new Set([...(e.weekly || []), ...(e.monthly || [])])].sort();
      const monthly = new Set(e.monthly || []);
      replace(this.expiries, all.map((d) => h("option", { value: d }, monthly.has(d) ? `${d} (monthly)` : d)));
      this.expiry = all[0] || null;
    } catch (err) {
      this.status.textContent = err.message;
      this.status.className = "status error";
      return;
    }
    if (this.destroyed) return;
    await this.load();
    const reload = throttle(() => this.load(), 500);
    this.stream = new Stream(this.api, `/monitor/stream?underlying=${encodeURIComponent(u)}`, {
      onState: (st) => this.el.querySelector(".chain-wrap")?.setAttribute("data-stream", st),
      onMessage: (m) => {
        if (m.channel) reload();
      },
    });
  }

  async load() {
    if (!this.expiry) {
      this.status.textContent = "no expiries quoted";
      return;
    }
    const seq = (this.seq = (this.seq || 0) + 1);
    let c;
    try {
      c = await this.api.get("/fo/option-chain", { underlying: this.underlying, expiry: this.expiry });
    } catch (e) {
      this.status.textContent = e.message;
      this.status.className = "status error";
      return;
    }
    if (seq !== this.seq || this.destroyed) return;
    this.render(c);
  }

  render(c) {
    const atm = c.spot === null ? null : c.strikes.reduce((best, s) => (best === null || Math.abs(s.strike - c.spot) < Math.abs(best - c.spot) ? s.strike : best), null);
    replace(
      this.stats,
      stat("Spot", fmt(c.spot, 2), "c-spot", c.spot),
      stat("PCR (OI)", fmt(c.pcr_oi, 3), "c-pcr", c.pcr_oi),
      stat("Max pain", fmt(c.max_pain), "c-maxpain", c.max_pain),
    );
    // The newest quote's exchange time (the market's clock, which the demo clock moves).
    const ts = Math.max(0, ...c.strikes.flatMap((s) => [s.call?.ts || 0, s.put?.ts || 0]));
    this.status.textContent = ts ? `quotes at ${istTime(ts)} IST` : "";
    this.status.className = "status muted";
    this.body.dataset.expiry = c.expiry || "";
    if (!c.strikes.length) return replace(this.body, h("tr", {}, h("td", { colspan: 15, class: "muted" }, "No options quoted for this expiry.")));
    replace(
      this.body,
      c.strikes.map((s) => {
        const itmCall = c.spot !== null && s.strike < c.spot;
        const itmPut = c.spot !== null && s.strike > c.spot;
        return h("tr", { class: s.strike === atm ? "atm" : "", dataset: { strike: s.strike } },
          side(s.call, true, itmCall, this),
          h("td", { class: "strike" }, fmt(s.strike)),
          side(s.put, false, itmPut, this),
        );
      }),
    );
  }

  destroy() {
    this.destroyed = true;
    this.stream?.close();
  }
}

function stat(label, text, id, value) {
  return h("span", { class: "stat", id, dataset: { value: value ?? "" } }, h("span", { class: "muted small" }, label), " ", h("b", {}, text));
}

function side(q, call, itm, view) {
  const cls = `${call ? "calls" : "puts"}${itm ? " itm" : ""}`;
  if (!q) return Array.from({ length: 7 }, () => h("td", { class: cls }, "—"));
  const trade = (ev) => {
    ev.preventDefault();
    view.shared.go("account", { symbol: q.tradingsymbol });
  };
  const oiChange = q.oi_change ?? null;
  const cells = [
    h("td", { class: `${cls} num` }, count(q.oi)),
    h("td", { class: `${cls} num ${oiChange > 0 ? "up" : oiChange < 0 ? "down" : ""}` }, oiChange === null ? "—" : (oiChange > 0 ? "+" : "") + count(oiChange)),
    h("td", { class: `${cls} num` }, q.iv === null || q.iv === undefined ? "—" : fmt(q.iv * 100, 1)),
    h("td", { class: `${cls} num` }, fmt(q.delta, 2)),
    h("td", { class: `${cls} num` }, fmt(q.bid, 2)),
    h("td", { class: `${cls} num` }, fmt(q.ask, 2)),
    h("td", { class: `${cls} num ltp`, dataset: { symbol: q.tradingsymbol } },
      h("a", { href: "#account", title: `Trade ${q.tradingsymbol}`, onclick: trade }, fmt(q.ltp, 2))),
  ];
  // Mirrored around the strike, bid before ask on both sides.
  const [oi, chg, iv, delta, bid, ask, ltp] = cells;
  return call ? cells : [ltp, bid, ask, delta, iv, chg, oi];
}
