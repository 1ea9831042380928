//! The clock: TTL expiries and session boundaries (roll-over, AMOs, square-off, close, expiry).

use super::*;

impl Engine {
    pub(super) fn clock_inner(&mut self, at: Millis) {
        let now = self.state.now;
        if at <= now {
            return;
        }
        if at - now > MAX_CLOCK_JUMP_DAYS * 86_400_000 && now != 0 {
            return;
        }
        // The first clock of a fresh engine starts the calendar there.
        let from = if now == 0 && self.state.seq == 0 {
            at - 1
        } else {
            now
        };
        let mut steps: Vec<(Millis, Step)> = self
            .cfg
            .session
            .boundaries_between(from, at, MAX_CLOCK_JUMP_DAYS)
            .into_iter()
            .map(|(t, b)| (t, Step::Boundary(b)))
            .collect();
        for &(t, oid) in self.ttl.range(..=(at, OrderId(u64::MAX))) {
            steps.push((t.max(from), Step::Ttl(oid)));
        }
        steps.sort_by_key(|s| (s.0, s.1.rank()));
        let emitted_before = self.out.len();
        for (t, step) in steps {
            let t = t.max(self.state.now);
            match step {
                Step::Ttl(oid) => {
                    if let Some(o) = self.state.orders.get(&oid)
                        && o.is_open()
                    {
                        let mut o = o.clone();
                        cancel_fields(&mut o, "TTL expired");
                        self.emit_order(t, o);
                    }
                    self.ttl.retain(|x| x.1 != oid);
                }
                Step::Boundary(b) => self.boundary(t, b),
            }
        }
        // Persist the clock when it did something, so a replay's clock ends where it was.
        if self.out.len() > emitted_before || self.state.now < at {
            self.emit(at, EventBody::Clock);
        }
    }

    /// When the clock next has something to do (a session boundary or a TTL expiry), after the
    /// engine's time; None for a fresh engine (its first clock starts the calendar). Callers
    /// ticking often can skip [`Engine::on_clock`] until then: an idle clock stores nothing.
    pub fn next_due(&self) -> Option<Millis> {
        let now = self.state.now;
        if now == 0 {
            return None;
        }
        let boundary = self
            .cfg
            .session
            .boundaries_between(now, now + 8 * 86_400_000, 8)
            .first()
            .map(|b| b.0);
        let ttl = self.ttl.iter().next().map(|t| t.0);
        match (boundary, ttl) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub(super) fn boundary(&mut self, at: Millis, b: Boundary) {
        let Some(date) = date_of(at) else { return };
        match b {
            Boundary::Open => {
                if self.state.session_date != Some(date) {
                    let mut closes: Vec<(CompactString, Paise)> = Vec::new();
                    let mut seen = BTreeSet::new();
                    for acc in self.state.accounts.values() {
                        for (sym, _) in acc.positions.keys() {
                            if seen.insert(sym.clone())
                                && let Some(q) = self.quote_of(sym)
                            {
                                closes.push((sym.clone(), q.ltp));
                            }
                        }
                    }
                    self.emit(at, EventBody::SessionRolled { date, closes });
                }
                let amos: Vec<OrderId> = self
                    .state
                    .orders
                    .values()
                    .filter(|o| o.status == Status::AmoReqReceived)
                    .map(|o| o.order_id)
                    .collect();
                for oid in amos {
                    let Some(o) = self.state.orders.get(&oid) else {
                        continue;
                    };
                    let mut o = o.clone();
                    o.status = if o.awaiting_trigger() {
                        Status::TriggerPending
                    } else {
                        Status::Open
                    };
                    let sym = o.tradingsymbol.clone();
                    self.emit_order(at, o);
                    if let Ok(inst) = self.instrument(&sym) {
                        self.offer(at, inst, oid, true);
                    }
                }
            }
            Boundary::SquareOff => self.square_off(at),
            Boundary::Close => {
                // Square-off orders still open fill at the last price; other DAY orders end.
                let open: Vec<OrderId> = self
                    .state
                    .orders
                    .values()
                    .filter(|o| o.is_open() && o.validity == Validity::Day)
                    .map(|o| o.order_id)
                    .collect();
                for oid in open {
                    let Some(o) = self.state.orders.get(&oid).cloned() else {
                        continue;
                    };
                    let inst = self.instruments.lookup(&o.tradingsymbol);
                    let last = inst.and_then(|i| self.quotes[i.0 as usize]);
                    if let (true, Some(inst), Some(q)) = (o.system, inst, last) {
                        self.fill(at, inst, oid, o.pending_quantity, q.ltp, FillBasis::Ltp);
                    } else {
                        let mut o = o;
                        cancel_fields(&mut o, "order expired at the close of the session");
                        self.emit_order(at, o);
                    }
                }
            }
            Boundary::Expiry => self.settle_expiries(at, date),
        }
    }

    pub(super) fn square_off(&mut self, at: Millis) {
        let mis_orders: Vec<Order> = self
            .state
            .orders
            .values()
            .filter(|o| o.is_open() && o.product == Product::Mis && !o.system)
            .cloned()
            .collect();
        for mut o in mis_orders {
            cancel_fields(&mut o, "cancelled by the auto square-off of MIS positions");
            self.emit_order(at, o);
        }
        let mut legs: Vec<(AccountId, CompactString, i64)> = Vec::new();
        for acc in self.state.accounts.values() {
            for ((sym, product), p) in &acc.positions {
                if *product == Product::Mis && p.quantity != 0 {
                    legs.push((acc.id, sym.clone(), p.quantity));
                }
            }
        }
        for (account, sym, qty) in legs {
            let side = if qty > 0 { Side::Sell } else { Side::Buy };
            let mut req = OrderRequest::new(
                account,
                &sym,
                side,
                qty.abs(),
                OrderType::Market,
                Product::Mis,
            );
            req.tag = Some("SQUAREOFF".into());
            // A system order bypasses the market-state and margin rules, not the instrument's.
            let _ = self.place(at, req, true);
        }
    }

    /// At 15:30 IST of an expiry day: open orders on the expiring contracts end, and each
    /// underlying's expiring positions settle at its final settlement price when the engine has
    /// one from the closing half hour (the underlying's quote, else the same-expiry future's).
    /// Without one (the feed was down, or the engine restarted after the close) the positions
    /// wait in [`Engine::pending_settlements`] for [`Command::SettleExpiry`] with the price
    /// from stored data — never settled at a stale or later price.
    pub(super) fn settle_expiries(&mut self, at: Millis, date: NaiveDate) {
        let expiring: Vec<OrderId> = self
            .state
            .orders
            .values()
            .filter(|o| o.is_open())
            .filter(|o| {
                self.instruments
                    .lookup(&o.tradingsymbol)
                    .is_some_and(|i| self.instruments.get(i).expiry == Some(date))
            })
            .map(|o| o.order_id)
            .collect();
        for oid in expiring {
            if let Some(o) = self.state.orders.get(&oid) {
                let mut o = o.clone();
                cancel_fields(&mut o, "contract expired");
                self.emit_order(at, o);
            }
        }
        for underlying in self.expiring_underlyings(date) {
            if let Some(price) = self.final_settlement_price(&underlying, date) {
                self.settle_underlying(at, &underlying, date, price);
            }
        }
    }

    /// Underlyings with open positions in contracts expiring on `date`.
    fn expiring_underlyings(&self, date: NaiveDate) -> BTreeSet<CompactString> {
        let mut out = BTreeSet::new();
        for acc in self.state.accounts.values() {
            for ((sym, _), p) in &acc.positions {
                if p.quantity == 0 {
                    continue;
                }
                if let Some(i) = self.instruments.lookup(sym) {
                    let info = self.instruments.get(i);
                    if info.expiry == Some(date) {
                        out.insert(info.underlying.clone());
                    }
                }
            }
        }
        out
    }

    /// The underlying's price in the closing half hour of `date` (its spot quote, else a
    /// same-expiry future's), if the engine saw one.
    fn final_settlement_price(&self, underlying: &str, date: NaiveDate) -> Option<Paise> {
        let close = stocksblitz_symbols::expiry_instant_utc(date).timestamp_millis();
        let in_window = |q: &Quote| q.at >= close - SETTLEMENT_WINDOW_MS && q.at <= close + 60_000;
        let mut spot_symbol = None;
        let mut future = None;
        for i in 0..self.instruments.len() {
            let info = self.instruments.get(InstrumentId(i as u32));
            if info.underlying != underlying {
                continue;
            }
            spot_symbol.get_or_insert_with(|| info.spot_symbol.clone());
            if info.kind == Kind::Future && info.expiry == Some(date) {
                future = self.quotes[i].filter(in_window).map(|q| q.ltp);
            }
        }
        let spot = spot_symbol
            .and_then(|s| self.quote_of(&s).copied())
            .filter(in_window)
            .map(|q| q.ltp);
        spot.or(future)
    }

    /// Settle every position of `underlying`'s contracts expiring on `date` at the underlying's
    /// final settlement `price`: futures at the price, options at their intrinsic value against
    /// it (worthless out of the money), the exercise STT on long in-the-money options.
    pub(super) fn settle_underlying(
        &mut self,
        at: Millis,
        underlying: &str,
        date: NaiveDate,
        price: Paise,
    ) {
        let mut legs: Vec<(AccountId, CompactString, Product, i64)> = Vec::new();
        for acc in self.state.accounts.values() {
            for ((sym, product), p) in &acc.positions {
                if p.quantity != 0 {
                    legs.push((acc.id, sym.clone(), *product, p.quantity));
                }
            }
        }
        for (account, sym, product, qty) in legs {
            let Some(inst) = self.instruments.lookup(&sym) else {
                continue;
            };
            let info = self.instruments.get(inst).clone();
            if info.expiry != Some(date) || info.underlying != underlying {
                continue;
            }
            let unit = match info.kind {
                Kind::Future => price,
                Kind::Option => info.intrinsic(price),
                _ => continue,
            };
            let trade_id = TradeId(self.state.next_trade + 1);
            let side = if qty > 0 { Side::Sell } else { Side::Buy };
            let realised = self.state.accounts[&account]
                .positions
                .get(&(sym.clone(), product))
                .map_or(0, |p| p.preview(-qty, unit).realised);
            let trade = Trade {
                trade_id,
                order_id: None,
                account,
                tradingsymbol: sym.clone(),
                exchange: info.exchange_str(),
                product,
                transaction_type: side,
                quantity: qty.abs(),
                price: unit,
                at,
                basis: FillBasis::Settlement,
                tag: None,
            };
            self.emit(at, EventBody::Trade { trade });
            let refs = |c: Option<Charges>| Refs(None, Some(trade_id), Some(sym.clone()), c);
            if info.kind == Kind::Future {
                self.ledger(
                    at,
                    account,
                    EntryKind::FuturesPnl,
                    realised,
                    refs(None),
                    format!(
                        "{sym} settled at the final settlement price {}",
                        crate::money::format_rupees(unit)
                    ),
                );
                continue;
            }
            let narration = if unit > 0 {
                format!(
                    "{sym} exercised: intrinsic value {} per unit",
                    crate::money::format_rupees(unit)
                )
            } else {
                format!("{sym} expired worthless")
            };
            self.ledger(
                at,
                account,
                EntryKind::ExpirySettlement,
                qty * unit,
                refs(None),
                narration,
            );
            if qty > 0 && unit > 0 {
                let c = exercise_charges(&self.cfg.rates, qty * unit, date);
                self.ledger(
                    at,
                    account,
                    EntryKind::Charges,
                    -c.total(),
                    refs(Some(c)),
                    format!("STT on the exercise of {sym}"),
                );
            }
        }
    }

    /// Expired contracts whose positions are still open (no settlement price was had at the
    /// expiry): (underlying, expiry).
    pub fn pending_settlements(&self) -> Vec<(CompactString, NaiveDate)> {
        let mut out = BTreeSet::new();
        for acc in self.state.accounts.values() {
            for ((sym, _), p) in &acc.positions {
                if p.quantity == 0 {
                    continue;
                }
                let Some(i) = self.instruments.lookup(sym) else {
                    continue;
                };
                let info = self.instruments.get(i);
                if let (Some(exp), Some(date)) = (info.expires_at(), info.expiry)
                    && exp <= self.state.now
                {
                    out.insert((info.underlying.clone(), date));
                }
            }
        }
        out.into_iter().collect()
    }
}
