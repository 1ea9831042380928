//! Margins and funds: legs of an account, the SPAN-style requirement, Kite-shaped funds.

use super::*;

impl Engine {
    /// The price a pending order blocks premium at.
    pub(super) fn pending_price(&self, inst: InstrumentId, o: &Order) -> Paise {
        if o.order_type.has_limit() {
            return o.price;
        }
        if o.order_type == OrderType::SlM && !o.triggered {
            return o.trigger_price;
        }
        self.quotes[inst.0 as usize].map_or(0, |q| q.touch(o.transaction_type).0)
    }

    /// The account's positions and pending orders as legs.
    pub fn account_legs(&self, account: AccountId) -> Vec<HypoLeg> {
        let Some(acc) = self.state.accounts.get(&account) else {
            return Vec::new();
        };
        let mut legs = Vec::new();
        for ((sym, product), p) in &acc.positions {
            if p.quantity != 0
                && let Some(inst) = self.instruments.lookup(sym)
            {
                legs.push(HypoLeg {
                    instrument: inst,
                    quantity: p.quantity,
                    product: *product,
                    price: 0,
                    pending: false,
                });
            }
        }
        for oid in &acc.open_orders {
            let Some(o) = self.state.orders.get(oid) else {
                continue;
            };
            if !o.is_open() || o.pending_quantity == 0 {
                continue;
            }
            if let Some(inst) = self.instruments.lookup(&o.tradingsymbol) {
                legs.push(HypoLeg {
                    instrument: inst,
                    quantity: o.transaction_type.sign() * o.pending_quantity,
                    product: o.product,
                    price: self.pending_price(inst, o),
                    pending: true,
                });
            }
        }
        legs
    }

    /// The margin requirement of a set of legs (positions and pending orders as if filled).
    pub fn requirement_of(&self, legs: &[HypoLeg]) -> Requirement {
        let mut req = Requirement::default();
        let mut by_under: BTreeMap<CompactString, Vec<HypoLeg>> = BTreeMap::new();
        for l in legs {
            let info = self.instruments.get(l.instrument);
            if l.pending && l.quantity > 0 && info.premium_style(l.product) {
                req.blocked += l.quantity * l.price;
            }
            match info.kind {
                Kind::Future | Kind::Option => {
                    by_under
                        .entry(info.underlying.clone())
                        .or_default()
                        .push(*l);
                }
                Kind::Equity if l.product == Product::Mis => {
                    let px = self.quotes[l.instrument.0 as usize].map_or(l.price, |q| q.ltp);
                    let v =
                        (l.quantity.abs() * px) as f64 * self.cfg.margins.equity_intraday_margin;
                    req.equity += v.ceil() as Paise;
                }
                _ => {}
            }
        }
        for (under, legs) in by_under {
            let m = self.underlying_margin(&legs);
            req.span += m.span;
            req.exposure += m.exposure;
            req.by_underlying.insert(under, m);
        }
        req
    }

    /// SPAN-style margin of legs on one underlying.
    pub(super) fn underlying_margin(&self, legs: &[HypoLeg]) -> PortfolioMargin {
        let Some(first) = legs.first() else {
            return PortfolioMargin::default();
        };
        let info0 = self.instruments.get(first.instrument);
        let params = self
            .cfg
            .margins
            .for_underlying(&info0.underlying, info0.is_index);
        let now = self.state.now;
        let mark = |id: InstrumentId| self.quotes[id.0 as usize].map(|q| q.mark());
        // The underlying's price: its spot quote, else a future's, else a strike.
        let spot = self
            .quote_of(&info0.spot_symbol)
            .map(|q| q.ltp)
            .or_else(|| {
                legs.iter().find_map(|l| {
                    (self.instruments.get(l.instrument).kind == Kind::Future)
                        .then(|| mark(l.instrument))
                        .flatten()
                })
            })
            .or_else(|| {
                legs.iter()
                    .find_map(|l| self.instruments.get(l.instrument).strike)
            });
        let Some(spot) = spot else {
            return PortfolioMargin::default();
        };
        let spot_r = spot as f64 / 100.0;
        let rate = self.cfg.margins.rate;
        // Aggregate by instrument.
        let mut agg: BTreeMap<InstrumentId, i64> = BTreeMap::new();
        for l in legs {
            *agg.entry(l.instrument).or_default() += l.quantity;
        }
        let mut out = Vec::with_capacity(agg.len());
        for (id, qty) in agg {
            if qty == 0 {
                continue;
            }
            let info = self.instruments.get(id);
            let years = info
                .expires_at()
                .map_or(0.0, |e| (e - now) as f64 / (365.0 * 86_400_000.0));
            match info.kind {
                Kind::Future => {
                    let f = mark(id).unwrap_or(spot) as f64 / 100.0;
                    out.push(Leg {
                        quantity: qty,
                        kind: LegKind::Future,
                        forward: f,
                        years,
                        vol: 0.0,
                    });
                }
                Kind::Option => {
                    let (Some(k), Some(right)) = (info.strike, info.right) else {
                        continue;
                    };
                    let k = k as f64 / 100.0;
                    let t = years.max(1.0 / (365.0 * 24.0));
                    let forward = spot_r * (rate * t).exp();
                    let q = self.quotes[id.0 as usize];
                    let vol = q
                        .and_then(|q| q.iv)
                        .or_else(|| {
                            let px = q?.mark() as f64 / 100.0;
                            Model::Black76 { forward, rate }.implied_vol(px, k, t, right)
                        })
                        .unwrap_or(params.default_vol);
                    out.push(Leg {
                        quantity: qty,
                        kind: LegKind::Option { strike: k, right },
                        forward,
                        years: t,
                        vol,
                    });
                }
                _ => {}
            }
        }
        portfolio_margin(params, &self.cfg.margins, spot_r, &out)
    }

    /// Refuse when `add` (less `remove`) needs more margin than is available.
    pub(super) fn check_margin(
        &self,
        account: AccountId,
        add: &[HypoLeg],
        remove: &[HypoLeg],
    ) -> Result<(), Reject> {
        let current = self.account_legs(account);
        // Only the underlyings touched change; compare just those (and the premium blocked).
        let touched: BTreeSet<CompactString> = add
            .iter()
            .chain(remove)
            .map(|l| self.instruments.get(l.instrument).underlying.clone())
            .collect();
        let in_scope =
            |l: &HypoLeg| touched.contains(&self.instruments.get(l.instrument).underlying);
        let before: Vec<HypoLeg> = current.iter().copied().filter(in_scope).collect();
        let mut after = before.clone();
        for r in remove {
            if let Some(i) = after.iter().position(|l| l.pending && l == r) {
                after.remove(i);
            }
        }
        after.extend_from_slice(add);
        let required = self.requirement_of(&after).total() - self.requirement_of(&before).total();
        if required <= 0 {
            return Ok(());
        }
        let available = self.funds_with(account, &current).net;
        if required > available {
            return Err(Reject::InsufficientFunds {
                required,
                available,
            });
        }
        Ok(())
    }

    /// Funds and margins of an account now.
    pub fn funds(&self, account: AccountId) -> Option<Funds> {
        self.state.accounts.get(&account)?;
        Some(self.funds_with(account, &self.account_legs(account)))
    }

    /// The account's margin requirement now.
    pub fn requirement(&self, account: AccountId) -> Requirement {
        self.requirement_of(&self.account_legs(account))
    }

    pub(super) fn funds_with(&self, account: AccountId, legs: &[HypoLeg]) -> Funds {
        let Some(acc) = self.state.accounts.get(&account) else {
            return Funds::default();
        };
        let sod = date_of(self.state.now).map_or(0, ist_midnight);
        let mut f = Funds {
            ledger_balance: acc.balance,
            ..Funds::default()
        };
        let mut premium_today = 0;
        for e in &acc.ledger {
            if e.at < sod {
                f.cash += e.amount;
                continue;
            }
            match e.kind {
                EntryKind::OpeningBalance => f.cash += e.amount,
                EntryKind::Payin => f.intraday_payin += e.amount,
                EntryKind::Premium => premium_today -= e.amount,
                EntryKind::FuturesPnl => f.m2m_realised -= e.amount,
                EntryKind::Charges => f.charges -= e.amount,
                EntryKind::ExpirySettlement => f.settlement -= e.amount,
            }
        }
        f.opening_balance = f.cash;
        let req = self.requirement_of(legs);
        // Open losses of futures-style positions (options' premium is already in cash).
        let mut unrealised = 0;
        for ((sym, product), p) in &acc.positions {
            if p.quantity == 0 {
                continue;
            }
            let Some(inst) = self.instruments.lookup(sym) else {
                continue;
            };
            let info = self.instruments.get(inst);
            if info.premium_style(*product) {
                continue;
            }
            if let Some(q) = self.quotes[inst.0 as usize] {
                unrealised += p.unrealised(q.ltp);
            }
        }
        f.m2m_unrealised = (-unrealised).max(0);
        f.span = req.span;
        f.exposure = req.exposure + req.equity;
        f.option_premium = premium_today + req.blocked;
        f.net = acc.balance - req.total() - f.m2m_unrealised;
        f.debits = f.cash + f.intraday_payin - f.net;
        f
    }

    /// Initial (each leg alone) and final (one portfolio) margin of a basket, on top of nothing.
    pub fn basket_margin(&self, legs: &[HypoLeg]) -> BasketMargin {
        let per: Vec<Paise> = legs
            .iter()
            .map(|l| self.requirement_of(std::slice::from_ref(l)).total())
            .collect();
        BasketMargin {
            initial: per.iter().sum(),
            final_: self.requirement_of(legs).total(),
            legs: per,
        }
    }

    /// Charges an order of `qty` at `price` would pay (Kite's `charges/orders`).
    pub fn charges_for(
        &mut self,
        tradingsymbol: &str,
        side: Side,
        product: Product,
        qty: i64,
        price: Paise,
        date: NaiveDate,
    ) -> Result<Charges, Reject> {
        if !(0..=MAX_QUANTITY).contains(&qty) || !(0..=MAX_PRICE).contains(&price) {
            return Err(Reject::OutOfRange {
                what: "quantity or price",
                value: qty,
            });
        }
        let inst = self.instrument(tradingsymbol)?;
        let seg = self.instruments.get(inst).segment(product);
        Ok(order_charges(
            &self.cfg.rates,
            &self.cfg.brokerage,
            seg,
            side,
            qty * price,
            date,
        ))
    }
}
