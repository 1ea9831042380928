// Account view: the primary paper account's funds and margins, positions with live P&L, orders
// (cancel, modify) and trades, and an order ticket that shows the margin the order would block
// and its charges (the server's /kite/margins/orders, on the same account) before it is sent.
// Order updates arrive on /orders/stream; positions and funds are re-read while the view is open.
import { h, replace, rupees, signed, pnlClass, fmt, count, debounce, throttle } from "./dom.js";
import { Stream } from "./ws.js";

const REFRESH_MS = 2000;

// The account the Kite-compatible routes (and so the margin preview) act on.
export async function primaryAccount(api) {
  const r = await api.get("/accounts");
  return r.data.find((a) => a.name === "primary") || r.data[0] || null;
}

const OPEN = new Set(["OPEN", "TRIGGER PENDING", "PUT ORDER REQ RECEIVED", "VALIDATION PENDING", "OPEN PENDING", "MODIFY PENDING", "AMO REQ RECEIVED"]);

export class AccountView {
  constructor(api, el, shared, prefill) {
    // The order whose modify form is open: {id, cell} (kept across re-renders).
    this.editing = null;
    this.api = api;
    this.el = el;
    this.shared = shared;
    this.instrument = null;
    this.timer = null;
    this.destroyed = false;
    this.build();
    this.init(prefill);
  }

  build() {
    this.funds = h("div", { class: "cards", id: "funds" });
    this.pnlCard = h("div", { class: "card", id: "f-pnl" });
    this.positions = h("tbody", { id: "positions" });
    this.orders = h("tbody", { id: "orders" });
    this.trades = h("tbody", { id: "trades" });
    this.status = h("span", { class: "status muted", id: "account-status" });
    this.ticket = this.buildTicket();
    replace(
      this.el,
      h("div", { class: "account" },
        h("section", { class: "panel ticket-panel" }, h("h2", {}, "Order ticket"), this.ticket),
        h("section", { class: "panel main-panel" },
          h("div", { class: "toolbar" }, h("h2", {}, "Funds"), this.status),
          this.funds,
          h("h2", {}, "Positions"),
          table(["Instrument", "Product", "Qty", "Avg", "LTP", "P&L", ""], this.positions, "positions-table"),
          h("h2", {}, "Orders"),
          table(["Time", "Instrument", "Side", "Type", "Qty", "Price", "Status", ""], this.orders, "orders-table"),
          h("h2", {}, "Trades"),
          table(["Time", "Instrument", "Side", "Qty", "Price"], this.trades, "trades-table"),
        ),
      ),
    );
  }

  buildTicket() {
    const f = {};
    f.symbol = h("input", { id: "t-symbol", type: "search", autocomplete: "off", placeholder: "e.g. NIFTY26DECFUT", required: true, oninput: debounce(() => this.suggest(), 150) });
    f.results = h("ul", { class: "results", id: "t-results", hidden: true });
    f.side = h("div", { class: "segmented side", role: "group", "aria-label": "Side" },
      h("button", { type: "button", class: "buy active", id: "t-buy", onclick: () => this.setSide("BUY") }, "Buy"),
      h("button", { type: "button", class: "sell", id: "t-sell", onclick: () => this.setSide("SELL") }, "Sell"),
    );
    f.lots = h("input", { id: "t-lots", type: "number", min: 1, step: 1, value: 1, required: true });
    f.lotInfo = h("span", { class: "muted small", id: "t-lotinfo" });
    f.type = select("t-type", ["MARKET", "LIMIT", "SL", "SL-M"]);
    f.product = select("t-product", ["MIS", "NRML"]);
    f.price = h("input", { id: "t-price", type: "number", step: "0.05", min: 0, disabled: true });
    f.trigger = h("input", { id: "t-trigger", type: "number", step: "0.05", min: 0, disabled: true });
    f.quote = h("div", { class: "muted small", id: "t-quote" });
    f.preview = h("div", { class: "preview", id: "t-preview" }, "Choose an instrument.");
    f.result = h("p", { id: "t-result", role: "status" });
    f.submit = h("button", { type: "submit", id: "t-submit", class: "buy" }, "Buy");
    this.f = f;
    this.side = "BUY";
    const changed = debounce(() => this.preview(), 200);
    for (const el of [f.lots, f.price, f.trigger, f.type, f.product]) el.addEventListener("input", changed);
    f.type.addEventListener("change", () => {
      const t = f.type.value;
      f.price.disabled = !(t === "LIMIT" || t === "SL");
      f.trigger.disabled = !(t === "SL" || t === "SL-M");
    });
    return h("form", { id: "ticket", onsubmit: (ev) => this.place(ev) },
      h("label", { for: "t-symbol" }, "Instrument"),
      h("div", { class: "search" }, f.symbol, f.results),
      f.quote,
      f.side,
      h("div", { class: "grid2" },
        h("div", {}, h("label", { for: "t-lots" }, "Lots"), f.lots, f.lotInfo),
        h("div", {}, h("label", { for: "t-product" }, "Product"), f.product),
        h("div", {}, h("label", { for: "t-type" }, "Order type"), f.type),
        h("div", {}, h("label", { for: "t-price" }, "Price"), f.price),
        h("div", {}, h("label", { for: "t-trigger" }, "Trigger"), f.trigger),
      ),
      f.preview,
      f.submit,
      f.result,
    );
  }

  async init(prefill) {
    try {
      this.account = await primaryAccount(this.api);
    } catch (e) {
      this.status.textContent = e.message;
      return;
    }
    if (this.destroyed || !this.account) return;
    this.status.textContent = `${this.account.name} · #${this.account.account_id}`;
    if (prefill) this.open(prefill);
    this.refresh();
    this.timer = setInterval(() => this.refreshLive(), REFRESH_MS);
    const reread = throttle(() => this.refresh(), 300);
    this.stream = new Stream(this.api, `/orders/stream?account_id=${this.account.account_id}`, {
      onState: (st) => this.el.querySelector(".account")?.setAttribute("data-stream", st),
      // Updates missed while disconnected: read the book again.
      onReady: () => reread(),
      onMessage: (m) => {
        if (m.type === "order" || m.type === "trade" || m.error_code === "lagged") reread();
      },
    });
  }

  // Open the ticket on an instrument (from the chain: {symbol, side}).
  open(arg) {
    const symbol = typeof arg === "string" ? arg : arg?.symbol;
    if (arg?.side) this.setSide(arg.side);
    if (symbol) this.choose(symbol);
  }

  base() {
    return `/accounts/${this.account.account_id}`;
  }

  async refresh() {
    if (!this.account) return;
    try {
      const [funds, positions, orders, trades] = await Promise.all([
        this.api.get(`${this.base()}/funds`),
        this.api.get(`${this.base()}/positions`),
        this.api.get(`${this.base()}/orders`),
        this.api.get(`${this.base()}/trades`),
      ]);
      if (this.destroyed) return;
      this.renderFunds(funds.data);
      this.renderPositions(positions.data);
      this.renderOrders(orders.data);
      this.renderTrades(trades.data);
    } catch (e) {
      this.status.textContent = e.message;
    }
  }

  // Live P&L: funds and positions move with prices.
  async refreshLive() {
    if (!this.account || document.hidden) return;
    try {
      const [funds, positions] = await Promise.all([
        this.api.get(`${this.base()}/funds`),
        this.api.get(`${this.base()}/positions`),
      ]);
      if (this.destroyed) return;
      this.renderFunds(funds.data);
      this.renderPositions(positions.data);
    } catch {
      // The next round tries again.
    }
  }

  renderFunds(d) {
    const u = d.utilised;
    const card = (label, v, id, cls) => h("div", { class: "card", id }, h("span", { class: "muted small" }, label), h("b", { class: cls || "" }, v));
    replace(
      this.funds,
      card("Available margin", rupees(d.available_margin), "f-available"),
      card("Used margin", rupees(d.used_margin), "f-used"),
      card("Cash", rupees(d.available.cash), "f-cash"),
      card("SPAN + exposure", rupees(u.span + u.exposure), "f-span"),
      card("Option premium", rupees(u.option_premium), "f-premium"),
      card("Charges", rupees(u.charges), "f-charges"),
      this.pnlCard,
    );
  }

  renderPositions(rows) {
    // The positions' P&L (each as the server values it), totalled for the card.
    const total = rows.reduce((sum, p) => sum + (p.pnl || 0), 0);
    replace(this.pnlCard, h("span", { class: "muted small" }, "P&L (positions)"), h("b", { class: pnlClass(total) }, signed(total)));
    if (!rows.length) return replace(this.positions, empty(7, "No positions."));
    replace(
      this.positions,
      rows.map((p) =>
        h("tr", { dataset: { symbol: p.tradingsymbol } },
          h("td", {}, h("a", { href: "#chart", onclick: (ev) => { ev.preventDefault(); this.shared.go("chart", p.tradingsymbol); } }, p.tradingsymbol)),
          h("td", {}, p.product),
          h("td", { class: `num ${p.quantity < 0 ? "down" : p.quantity > 0 ? "up" : ""}` }, count(p.quantity)),
          h("td", { class: "num" }, fmt(p.average_price, 2)),
          h("td", { class: "num" }, fmt(p.last_price, 2)),
          h("td", { class: `num pnl ${pnlClass(p.pnl)}` }, signed(p.pnl)),
          h("td", {}, p.quantity !== 0
            ? h("button", { class: "secondary small", onclick: () => this.exit(p) }, "Exit")
            : ""),
        ),
      ),
    );
  }

  renderOrders(rows) {
    // An order being modified keeps its editor (the very cells, with what was typed) through
    // re-reads that any order update triggers; once it is no longer open, the editor goes.
    const editing = this.editing;
    if (editing && !rows.some((o) => String(o.order_id) === editing.id && OPEN.has(o.status))) {
      this.editing = null;
    }
    if (!rows.length) return replace(this.orders, empty(8, "No orders."));
    replace(
      this.orders,
      [...rows].reverse().map((o) => {
        const open = OPEN.has(o.status);
        if (open && this.editing?.id === String(o.order_id)) {
          return h("tr", { dataset: { order: o.order_id, status: o.status } }, this.editing.cell);
        }
        return h("tr", { dataset: { order: o.order_id, status: o.status } },
          h("td", {}, (o.order_timestamp || "").slice(11)),
          h("td", {}, o.tradingsymbol),
          h("td", { class: o.transaction_type === "BUY" ? "up" : "down" }, o.transaction_type),
          h("td", {}, `${o.order_type} ${o.product}`),
          h("td", { class: "num" }, `${count(o.filled_quantity)}/${count(o.quantity)}`),
          h("td", { class: "num" }, o.order_type === "MARKET" ? fmt(o.average_price, 2) : fmt(o.price, 2) + (o.trigger_price ? ` / ${fmt(o.trigger_price, 2)}` : "")),
          h("td", { title: o.status_message || "" }, o.status),
          h("td", {}, open
            ? [
                h("button", { class: "secondary small", onclick: () => this.modify(o) }, "Modify"),
                " ",
                h("button", { class: "secondary small", onclick: () => this.cancel(o) }, "Cancel"),
              ]
            : ""),
        );
      }),
    );
  }

  renderTrades(rows) {
    if (!rows.length) return replace(this.trades, empty(5, "No trades."));
    replace(
      this.trades,
      [...rows].reverse().map((t) =>
        h("tr", {},
          h("td", {}, (t.fill_timestamp || "").slice(11)),
          h("td", {}, t.tradingsymbol),
          h("td", { class: t.transaction_type === "BUY" ? "up" : "down" }, t.transaction_type),
          h("td", { class: "num" }, count(t.quantity)),
          h("td", { class: "num" }, fmt(t.average_price, 2)),
        ),
      ),
    );
  }

  setSide(side) {
    this.side = side;
    const { f } = this;
    f.side.querySelector(".buy").classList.toggle("active", side === "BUY");
    f.side.querySelector(".sell").classList.toggle("active", side === "SELL");
    f.submit.textContent = side === "BUY" ? "Buy" : "Sell";
    f.submit.className = side === "BUY" ? "buy" : "sell";
    this.preview();
  }

  async suggest() {
    const q = this.f.symbol.value.trim();
    if (q.length < 2) return (this.f.results.hidden = true);
    try {
      const items = (await this.api.get("/search", { query: q, limit: 12 })).filter((i) => i.type !== "index");
      replace(
        this.f.results,
        items.map((it) =>
          h("li", { dataset: { symbol: it.symbol }, onmousedown: (ev) => { ev.preventDefault(); this.choose(it.symbol); } },
            h("b", {}, it.symbol), h("span", { class: "muted small" }, ` ${it.exchange}`)),
        ),
      );
      this.f.results.hidden = items.length === 0;
    } catch {
      this.f.results.hidden = true;
    }
  }

  async choose(symbol) {
    const { f } = this;
    f.symbol.value = symbol;
    f.results.hidden = true;
    this.instrument = null;
    f.lotInfo.textContent = "";
    try {
      const list = await this.api.get("/instruments", { underlying: symbol });
      this.instrument = list.instruments.find((i) => i.tradingsymbol === symbol) || null;
    } catch (e) {
      f.preview.textContent = e.message;
    }
    if (!this.instrument) {
      f.preview.textContent = `${symbol} is not a tradable instrument the feed quotes.`;
      return;
    }
    f.lotInfo.textContent = `× ${this.instrument.lot_size} = ${count(this.quantity())} units`;
    try {
      const q = await this.api.get("/quote", { symbol });
      f.quote.textContent = `LTP ${fmt(q.ltp, 2)} · bid ${fmt(q.bid, 2)} × ${count(q.bid_qty)} · ask ${fmt(q.ask, 2)} × ${count(q.ask_qty)}`;
      if (!f.price.value) f.price.value = q.ltp;
    } catch {
      f.quote.textContent = "";
    }
    this.preview();
  }

  quantity() {
    const lots = Math.max(0, Math.floor(Number(this.f.lots.value) || 0));
    return lots * (this.instrument?.lot_size || 0);
  }

  order() {
    const { f } = this;
    const type = f.type.value;
    const o = {
      tradingsymbol: this.instrument.tradingsymbol,
      transaction_type: this.side,
      quantity: this.quantity(),
      order_type: type,
      product: f.product.value,
    };
    if (type === "LIMIT" || type === "SL") o.price = Number(f.price.value);
    if (type === "SL" || type === "SL-M") o.trigger_price = Number(f.trigger.value);
    return o;
  }

  // The margin this order would block on top of the account's positions and open orders, and
  // its charges — the server's numbers, before anything is sent.
  async preview() {
    const { f } = this;
    if (!this.instrument) return;
    f.lotInfo.textContent = `× ${this.instrument.lot_size} = ${count(this.quantity())} units`;
    if (this.quantity() <= 0) {
      f.preview.textContent = "Enter at least one lot.";
      return;
    }
    const o = this.order();
    const seq = (this.previewSeq = (this.previewSeq || 0) + 1);
    const missing = needs(o).find(([field]) => !(o[field] > 0));
    if (missing) {
      f.preview.textContent = `Enter a ${missing[1]}.`;
      return;
    }
    try {
      const r = await this.api.post("/kite/margins/orders", [
        { exchange: this.instrument.exchange, variety: "regular", price: 0, trigger_price: 0, ...o },
      ]);
      if (seq !== this.previewSeq) return;
      const m = r.data[0];
      const c = m.charges;
      replace(
        f.preview,
        h("div", { class: "row between" }, h("span", {}, "Required margin"), h("b", { id: "t-margin", dataset: { value: m.total } }, rupees(m.total))),
        h("div", { class: "row between muted small" }, h("span", {}, "SPAN / exposure / premium"), h("span", {}, `${rupees(m.span)} / ${rupees(m.exposure)} / ${rupees(m.option_premium)}`)),
        h("div", { class: "row between" }, h("span", {}, "Charges"), h("b", { id: "t-charges", dataset: { value: c.total } }, rupees(c.total))),
        h("div", { class: "muted small" },
          `brokerage ${rupees(c.brokerage)} · ${c.transaction_tax_type.toUpperCase()} ${rupees(c.transaction_tax)} · exchange ${rupees(c.exchange_turnover_charge)} · SEBI ${rupees(c.sebi_turnover_charge)} · stamp ${rupees(c.stamp_duty)} · GST ${rupees(c.gst.total)}`),
      );
    } catch (e) {
      if (seq === this.previewSeq) replace(f.preview, h("span", { class: "error" }, e.message));
    }
  }

  async place(ev) {
    ev.preventDefault();
    const { f } = this;
    if (!this.instrument) {
      f.result.textContent = "Choose an instrument from the list.";
      f.result.className = "error";
      return;
    }
    const missing = needs(this.order()).find(([field, , o]) => !(o[field] > 0));
    if (missing) {
      f.result.textContent = `Enter a ${missing[1]}.`;
      f.result.className = "error";
      return;
    }
    f.submit.disabled = true;
    f.result.textContent = "";
    f.result.className = "";
    try {
      const r = await this.api.post(`${this.base()}/orders`, this.order(), { "Idempotency-Key": crypto.randomUUID() });
      f.result.textContent = `Order ${r.data.order_id} placed.`;
      f.result.className = "ok";
    } catch (e) {
      f.result.textContent = e.message;
      f.result.className = "error";
    } finally {
      f.submit.disabled = false;
      this.refresh();
      this.preview();
    }
  }

  async cancel(o) {
    try {
      await this.api.del(`${this.base()}/orders/${o.order_id}`);
    } catch (e) {
      this.status.textContent = e.message;
    }
    this.refresh();
  }

  modify(o) {
    const row = this.orders.querySelector(`tr[data-order="${CSS.escape(o.order_id)}"]`);
    if (!row) return;
    const qty = h("input", { type: "number", min: 1, value: o.quantity, "aria-label": "Quantity" });
    const price = h("input", { type: "number", step: "0.05", value: o.price || "", "aria-label": "Price" });
    const trigger = h("input", { type: "number", step: "0.05", value: o.trigger_price || "", "aria-label": "Trigger" });
    const error = h("span", { class: "error small" });
    const form = h("form", {
      class: "modify",
      onsubmit: async (ev) => {
        ev.preventDefault();
        const body = { quantity: Number(qty.value) };
        if (o.order_type === "LIMIT" || o.order_type === "SL") body.price = Number(price.value);
        if (o.order_type === "SL" || o.order_type === "SL-M") body.trigger_price = Number(trigger.value);
        try {
          await this.api.put(`${this.base()}/orders/${o.order_id}`, body);
          this.editing = null;
          this.refresh();
        } catch (e) {
          error.textContent = e.message;
        }
      },
    }, "qty ", qty,
      o.order_type === "LIMIT" || o.order_type === "SL" ? [" price ", price] : "",
      o.order_type === "SL" || o.order_type === "SL-M" ? [" trigger ", trigger] : "",
      " ", h("button", { type: "submit", class: "small" }, "Save"),
      " ", h("button", { type: "button", class: "secondary small", onclick: () => { this.editing = null; this.refresh(); } }, "Close"),
      " ", error);
    const cell = h("td", { colspan: 8 }, `${o.tradingsymbol} #${o.order_id}: `, form);
    this.editing = { id: String(o.order_id), cell };
    replace(row, cell);
  }

  // Exit a position: an opposite MARKET order for its quantity, after a look at the ticket.
  exit(p) {
    this.setSide(p.quantity > 0 ? "SELL" : "BUY");
    this.f.product.value = p.product;
    this.f.type.value = "MARKET";
    this.f.type.dispatchEvent(new Event("change"));
    this.choose(p.tradingsymbol).then(() => {
      if (this.instrument) {
        this.f.lots.value = Math.abs(p.quantity) / this.instrument.lot_size;
        this.preview();
      }
    });
    this.f.symbol.scrollIntoView({ block: "nearest" });
  }

  destroy() {
    this.destroyed = true;
    clearInterval(this.timer);
    this.stream?.close();
  }
}

// The prices an order needs by its type: [field, what to call it, the order].
function needs(o) {
  const out = [];
  if (o.order_type === "LIMIT" || o.order_type === "SL") out.push(["price", "limit price", o]);
  if (o.order_type === "SL" || o.order_type === "SL-M") out.push(["trigger_price", "trigger price", o]);
  return out;
}

function table(head, body, id) {
  return h("div", { class: "table-wrap" },
    h("table", { id }, h("thead", {}, h("tr", {}, head.map((x) => h("th", {}, x)))), body));
}

function empty(n, text) {
  return h("tr", {}, h("td", { colspan: n, class: "muted" }, text));
}

function select(id, options) {
  return h("select", { id }, options.map((o) => h("option", { value: o }, o)));
}
