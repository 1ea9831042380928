//! Matching: quotes against resting orders, fills at the touch, the books a fill moves.

use super::*;

impl Engine {
    pub(super) fn quote_inner(&mut self, id: InstrumentId, quote: Quote) {
        let Some(q) = quote.sanitised() else { return };
        let i = id.0 as usize;
        self.quotes[i] = Some(q);
        if self.resting[i].is_empty() {
            return;
        }
        let fresh = q.at >= self.state.now - self.cfg.max_quote_age_ms;
        // Scan the compact index for orders this quote can act on.
        let mut cands = std::mem::take(&mut self.scratch);
        cands.clear();
        for r in &self.resting[i] {
            let acts = if r.stop {
                match r.side {
                    Side::Buy => q.ltp >= r.trigger,
                    Side::Sell => q.ltp <= r.trigger,
                }
            } else {
                fresh
                    && match r.limit {
                        None => true,
                        Some(l) => {
                            let touch = q.touch(r.side).0;
                            match r.side {
                                Side::Buy => touch <= l,
                                Side::Sell => touch >= l,
                            }
                        }
                    }
            };
            if acts {
                cands.push(r.id);
            }
        }
        if !cands.is_empty() {
            let at = self
                .state
                .now
                .max(q.at.min(self.state.now + self.cfg.max_quote_age_ms));
            let mut avail = [q.bid_qty, q.ask_qty];
            for &oid in &cands {
                self.work(at, id, oid, &q, fresh, false, &mut avail);
            }
        }
        self.scratch = cands;
    }

    /// Offer an order to the current quote (at placement, modification or trigger).
    pub(super) fn offer(
        &mut self,
        at: Millis,
        inst: InstrumentId,
        oid: OrderId,
        fresh_order: bool,
    ) {
        let Some(q) = self.quotes.get(inst.0 as usize).copied().flatten() else {
            self.ioc_rest(at, oid);
            return;
        };
        let fresh = q.at >= self.state.now - self.cfg.max_quote_age_ms;
        let mut avail = [q.bid_qty, q.ask_qty];
        self.work(at, inst, oid, &q, fresh, fresh_order, &mut avail);
        self.ioc_rest(at, oid);
    }

    /// Cancel what an IOC order did not fill at once.
    pub(super) fn ioc_rest(&mut self, at: Millis, oid: OrderId) {
        if let Some(o) = self.state.orders.get(&oid)
            && o.is_open()
            && o.validity == Validity::Ioc
        {
            let mut o = o.clone();
            cancel_fields(&mut o, "IOC: unfilled quantity cancelled");
            self.emit_order(at, o);
        }
    }

    /// Trigger and fill one order against `q`. `fresh_order`: the order is new to the market
    /// (a marketable limit fills at the touch); otherwise a limit fills at its own price.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn work(
        &mut self,
        at: Millis,
        inst: InstrumentId,
        oid: OrderId,
        q: &Quote,
        fresh: bool,
        mut fresh_order: bool,
        avail: &mut [Option<i64>; 2],
    ) {
        let Some(o) = self.state.orders.get(&oid) else {
            return;
        };
        if !matches!(o.status, Status::Open | Status::TriggerPending) {
            return;
        }
        if o.awaiting_trigger() {
            let hit = match o.transaction_type {
                Side::Buy => q.ltp >= o.trigger_price,
                Side::Sell => q.ltp <= o.trigger_price,
            };
            if !hit {
                return;
            }
            let mut t = o.clone();
            t.triggered = true;
            t.status = Status::Open;
            self.emit_order(at, t);
            fresh_order = true;
        }
        if !fresh {
            return;
        }
        let Some(o) = self.state.orders.get(&oid) else {
            return;
        };
        let side = o.transaction_type;
        let (touch, size, from_book) = q.touch(side);
        let slot = usize::from(side == Side::Buy);
        let size = avail[slot].or(size);
        let (price, basis) = match o.limit() {
            None => (
                touch,
                if from_book {
                    FillBasis::Touch
                } else {
                    FillBasis::Ltp
                },
            ),
            Some(l) => {
                let crosses = match side {
                    Side::Buy => touch <= l,
                    Side::Sell => touch >= l,
                };
                if !crosses {
                    return;
                }
                if fresh_order {
                    (
                        touch,
                        if from_book {
                            FillBasis::Touch
                        } else {
                            FillBasis::Ltp
                        },
                    )
                } else {
                    (l, FillBasis::Limit)
                }
            }
        };
        let qty = match size {
            Some(s) => o.pending_quantity.min(s.max(0)),
            None => o.pending_quantity,
        };
        if qty <= 0 || price <= 0 {
            return;
        }
        if let Some(s) = avail[slot].as_mut() {
            *s -= qty;
        } else if size.is_some() {
            avail[slot] = size.map(|s| s - qty);
        }
        self.fill(at, inst, oid, qty, price, basis);
    }

    /// Book a fill: trade, cash, charges, order update.
    pub(super) fn fill(
        &mut self,
        at: Millis,
        inst: InstrumentId,
        oid: OrderId,
        qty: i64,
        price: Paise,
        basis: FillBasis,
    ) {
        let Some(o) = self.state.orders.get(&oid).cloned() else {
            return;
        };
        let info = self.instruments.get(inst).clone();
        let trade_id = TradeId(self.state.next_trade + 1);
        let signed = o.transaction_type.sign() * qty;
        let key = (info.tradingsymbol.clone(), o.product);
        let realised = self.state.accounts[&o.account]
            .positions
            .get(&key)
            .map_or(0, |p| p.preview(signed, price).realised);
        let trade = Trade {
            trade_id,
            order_id: Some(oid),
            account: o.account,
            tradingsymbol: info.tradingsymbol.clone(),
            exchange: info.exchange_str(),
            product: o.product,
            transaction_type: o.transaction_type,
            quantity: qty,
            price,
            at,
            basis,
            tag: o.tag.clone(),
        };
        self.emit(at, EventBody::Trade { trade });
        let refs = |c: Option<Charges>| {
            Refs(
                Some(oid),
                Some(trade_id),
                Some(info.tradingsymbol.clone()),
                c,
            )
        };
        if info.premium_style(o.product) {
            let narration = match o.transaction_type {
                Side::Buy => format!(
                    "bought {qty} {} @ {}",
                    info.tradingsymbol,
                    crate::money::format_rupees(price)
                ),
                Side::Sell => format!(
                    "sold {qty} {} @ {}",
                    info.tradingsymbol,
                    crate::money::format_rupees(price)
                ),
            };
            self.ledger(
                at,
                o.account,
                EntryKind::Premium,
                -signed * price,
                refs(None),
                narration,
            );
        } else if realised != 0 {
            self.ledger(
                at,
                o.account,
                EntryKind::FuturesPnl,
                realised,
                refs(None),
                format!("realised P&L on {}", info.tradingsymbol),
            );
        }
        // Charges: the order's charges on its cumulative turnover, less what was debited.
        let mut o2 = o.clone();
        o2.filled_quantity += qty;
        o2.pending_quantity -= qty;
        o2.filled_value += qty * price;
        let date = date_of(o.order_timestamp).unwrap_or_default();
        let mut total = order_charges(
            &self.cfg.rates,
            &self.cfg.brokerage,
            info.segment(o.product),
            o.transaction_type,
            o2.filled_value,
            date,
        );
        if o.system && self.cfg.squareoff_fee > 0 {
            let set = self.cfg.rates.on(date);
            total.brokerage += self.cfg.squareoff_fee;
            total.gst = set.gst.apply(total.brokerage + total.exchange + total.sebi);
        }
        let delta = total.minus(&o.charges);
        if delta.total() != 0 {
            self.ledger(
                at,
                o.account,
                EntryKind::Charges,
                -delta.total(),
                refs(Some(delta)),
                format!("charges on order {oid}"),
            );
        }
        o2.charges = total;
        if o2.pending_quantity == 0 {
            o2.status = Status::Complete;
            o2.status_message = None;
        } else if basis == FillBasis::Ltp {
            o2.status_message = Some("partly filled at the last traded price (no book)".into());
        }
        if basis == FillBasis::Ltp && o2.status == Status::Complete {
            o2.status_message =
                Some("filled at the last traded price: the feed has no book".into());
        }
        self.emit_order(at, o2);
    }
}
