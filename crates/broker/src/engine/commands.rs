//! Commands: accounts, placing (every rule), modifying, cancelling and converting.

use super::*;

impl Engine {
    pub(super) fn command(&mut self, at: Millis, cmd: Command) -> Result<Reply, Rejection> {
        match cmd {
            Command::OpenAccount {
                account,
                opening_balance,
            } => {
                if self.state.accounts.contains_key(&account) {
                    return Err(Reject::AccountExists { account }.into());
                }
                check_amount("opening_balance", opening_balance, 0)?;
                self.emit(at, EventBody::AccountOpened { account });
                self.opening(at, account, opening_balance);
                Ok(Reply::Done)
            }
            Command::ResetAccount {
                account,
                opening_balance,
            } => {
                self.account_exists(account)?;
                check_amount("opening_balance", opening_balance, 0)?;
                self.emit(at, EventBody::AccountReset { account });
                self.opening(at, account, opening_balance);
                Ok(Reply::Done)
            }
            Command::Payin { account, amount } => {
                self.account_exists(account)?;
                check_amount("amount", amount, -MAX_AMOUNT)?;
                if amount < 0 {
                    let net = self.funds(account).map_or(0, |f| f.net);
                    if -amount > net {
                        return Err(Reject::InsufficientFunds {
                            required: -amount,
                            available: net,
                        }
                        .into());
                    }
                }
                let narration = if amount >= 0 {
                    "funds added"
                } else {
                    "funds withdrawn"
                };
                self.ledger(
                    at,
                    account,
                    EntryKind::Payin,
                    amount,
                    Refs::NONE,
                    narration.into(),
                );
                Ok(Reply::Done)
            }
            Command::Place(req) => self.place(at, req, false),
            Command::Modify {
                account,
                order_id,
                changes,
            } => self.modify(at, account, order_id, changes),
            Command::Cancel { account, order_id } => {
                let o = self.own_open_order(account, order_id)?;
                let mut o = o.clone();
                cancel_fields(&mut o, "cancelled by the user");
                self.emit_order(at, o);
                Ok(Reply::Orders(vec![order_id]))
            }
            Command::Convert {
                account,
                tradingsymbol,
                from,
                to,
                quantity,
            } => self.convert(at, account, &tradingsymbol, from, to, quantity),
            Command::SettleExpiry {
                underlying,
                expiry,
                price,
            } => {
                let close = stocksblitz_symbols::expiry_instant_utc(expiry).timestamp_millis();
                if at < close {
                    return Err(Reject::NotExpired { expiry }.into());
                }
                if !(1..=MAX_PRICE).contains(&price) {
                    return Err(Reject::OutOfRange {
                        what: "settlement price",
                        value: price,
                    }
                    .into());
                }
                self.settle_underlying(at, &underlying, expiry, price);
                Ok(Reply::Done)
            }
        }
    }

    pub(super) fn opening(&mut self, at: Millis, account: AccountId, amount: Paise) {
        self.ledger(
            at,
            account,
            EntryKind::OpeningBalance,
            amount,
            Refs::NONE,
            "opening balance".into(),
        );
    }

    pub(super) fn account_exists(&self, account: AccountId) -> Result<(), Rejection> {
        if self.state.accounts.contains_key(&account) {
            Ok(())
        } else {
            Err(Reject::UnknownAccount { account }.into())
        }
    }

    pub(super) fn own_open_order(
        &self,
        account: AccountId,
        order_id: OrderId,
    ) -> Result<&Order, Rejection> {
        self.account_exists(account)?;
        match self.state.orders.get(&order_id) {
            Some(o) if o.account == account => {
                if o.is_open() {
                    Ok(o)
                } else {
                    Err(Reject::OrderNotOpen {
                        order_id,
                        status: o.status,
                    }
                    .into())
                }
            }
            // Another account's order is as good as missing.
            _ => Err(Reject::UnknownOrder { order_id }.into()),
        }
    }

    /// Record a refused placement as a REJECTED order (like Kite's order book).
    pub(super) fn reject_order(
        &mut self,
        at: Millis,
        req: &OrderRequest,
        reason: Reject,
    ) -> Rejection {
        let id = OrderId(self.cfg.order_id_base.max(self.state.next_order) + 1);
        let mut o = new_order(id, req, at, "");
        o.tradingsymbol = req.tradingsymbol.chars().take(64).collect();
        o.quantity = req.quantity.clamp(0, MAX_QUANTITY);
        o.pending_quantity = 0;
        o.price = req.price.unwrap_or(0).clamp(0, MAX_PRICE);
        o.trigger_price = req.trigger_price.unwrap_or(0).clamp(0, MAX_PRICE);
        o.tag = req
            .tag
            .as_ref()
            .map(|t| t.chars().take(MAX_TAG_LEN).collect());
        o.status = Status::Rejected;
        o.status_message = Some(reason.to_string());
        o.revision = 0;
        self.emit_order(at, o);
        Rejection {
            reason,
            order_id: Some(id),
        }
    }

    pub(super) fn place(
        &mut self,
        at: Millis,
        req: OrderRequest,
        system: bool,
    ) -> Result<Reply, Rejection> {
        self.account_exists(req.account)?;
        if let Some(key) = &req.idempotency_key {
            if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN {
                return Err(Reject::OutOfRange {
                    what: "idempotency key length",
                    value: key.len() as i64,
                }
                .into());
            }
            // A retry: the first placement's orders, nothing placed again.
            if let Some(ids) = self.orders_for_key(req.account, key, at) {
                return Ok(Reply::Orders(ids.to_vec()));
            }
        }
        let open = self.state.accounts[&req.account].open_orders.len();
        if open >= MAX_OPEN_ORDERS {
            return Err(Reject::OutOfRange {
                what: "open orders of the account",
                value: open as i64,
            }
            .into());
        }
        let (inst, slices) = match self.validate(at, &req, system) {
            Ok(v) => v,
            Err(reason) => return Err(self.reject_order(at, &req, reason)),
        };
        let info = self.instruments.get(inst).clone();
        // Margin for the whole request at once.
        if !system {
            let price = self.work_price(inst, &req);
            let leg = HypoLeg {
                instrument: inst,
                quantity: req.side.sign() * req.quantity,
                product: req.product,
                price,
                pending: true,
            };
            if let Err(reason) = self.check_margin(req.account, &[leg], &[]) {
                return Err(self.reject_order(at, &req, reason));
            }
        }
        let mut ids = Vec::with_capacity(slices.len());
        let mut parent = None;
        for qty in slices {
            let id = OrderId(self.cfg.order_id_base.max(self.state.next_order) + 1);
            let mut o = new_order(id, &req, at, &info.exchange_str());
            o.tradingsymbol.clone_from(&info.tradingsymbol);
            o.quantity = qty;
            o.pending_quantity = qty;
            o.parent_order_id = parent;
            o.system = system;
            o.status = if req.variety == Variety::Amo {
                Status::AmoReqReceived
            } else if req.order_type.is_stop() {
                Status::TriggerPending
            } else {
                Status::Open
            };
            o.revision = 0;
            self.emit_order(at, o);
            parent = parent.or(Some(id));
            ids.push(id);
        }
        if req.variety == Variety::Regular {
            for id in &ids {
                self.offer(at, inst, *id, true);
            }
        }
        Ok(Reply::Orders(ids))
    }

    /// The price a request works at for margin: its limit, else the touch.
    pub(super) fn work_price(&self, inst: InstrumentId, req: &OrderRequest) -> Paise {
        if req.order_type.has_limit() {
            return req.price.unwrap_or(0);
        }
        let q = self.quotes.get(inst.0 as usize).copied().flatten();
        match (req.order_type, q) {
            (OrderType::SlM, _) => req.trigger_price.unwrap_or(0),
            (_, Some(q)) => q.touch(req.side).0,
            _ => 0,
        }
    }

    /// Every rule of a placement; returns the instrument and the slice quantities.
    pub(super) fn validate(
        &mut self,
        at: Millis,
        req: &OrderRequest,
        system: bool,
    ) -> Result<(InstrumentId, Vec<i64>), Reject> {
        let inst = self.instrument(&req.tradingsymbol)?;
        let info = self.instruments.get(inst);
        let Some(spec) = info.spec else {
            let why = match info.kind {
                Kind::Index => "an index is not a tradable instrument".to_string(),
                _ => format!(
                    "no contract specification (lot size) for {} derivatives",
                    info.underlying
                ),
            };
            return Err(Reject::NotTradable {
                tradingsymbol: info.tradingsymbol.clone(),
                why,
            });
        };
        if let (Some(exp), Some(expiry)) = (info.expires_at(), info.expiry)
            && at >= exp
        {
            return Err(Reject::ContractExpired {
                tradingsymbol: info.tradingsymbol.clone(),
                expiry,
            });
        }
        let kind = info.kind;
        match (req.product, kind) {
            (Product::Cnc, Kind::Equity)
            | (Product::Mis, _)
            | (Product::Nrml, Kind::Future | Kind::Option) => {}
            (p, k) => {
                return Err(Reject::ProductNotAllowed {
                    product: p,
                    kind: k.as_str(),
                });
            }
        }
        if req.quantity <= 0 {
            return Err(Reject::QuantityNotPositive {
                quantity: req.quantity,
            });
        }
        if req.quantity > MAX_QUANTITY {
            return Err(Reject::OutOfRange {
                what: "quantity",
                value: req.quantity,
            });
        }
        let lot = i64::from(spec.lot_size);
        if req.quantity % lot != 0 {
            return Err(Reject::NotLotMultiple {
                quantity: req.quantity,
                lot_size: spec.lot_size,
            });
        }
        // Slices: multiples of the lot, each within the freeze quantity.
        let freeze = i64::from(spec.freeze_qty);
        let slices = if req.quantity <= freeze {
            vec![req.quantity]
        } else if req.autoslice || system {
            let per = (freeze / lot) * lot;
            let n = (req.quantity + per - 1) / per;
            if n > i64::from(MAX_SLICES) && !system {
                return Err(Reject::TooManySlices {
                    quantity: req.quantity,
                    freeze_qty: spec.freeze_qty,
                    max: MAX_SLICES,
                });
            }
            let mut v = vec![per; (req.quantity / per) as usize];
            if req.quantity % per != 0 {
                v.push(req.quantity % per);
            }
            v
        } else {
            return Err(Reject::FreezeQuantity {
                quantity: req.quantity,
                freeze_qty: spec.freeze_qty,
            });
        };
        if let Some(tag) = &req.tag
            && tag.chars().count() > MAX_TAG_LEN
        {
            return Err(Reject::TagTooLong {
                len: tag.chars().count(),
                max: MAX_TAG_LEN,
            });
        }
        let tick = i64::from(spec.tick_paise);
        check_prices(req.order_type, req.side, req.price, req.trigger_price, tick)?;
        match req.validity {
            Validity::Ttl if !req.validity_ttl.is_some_and(|m| (1..=1440).contains(&m)) => {
                return Err(Reject::BadTtl {
                    ttl: req.validity_ttl,
                });
            }
            Validity::Ioc if req.order_type.is_stop() => {
                return Err(Reject::BadValidity {
                    order_type: req.order_type,
                    validity: req.validity,
                });
            }
            _ => {}
        }
        // Market state.
        let rules = self.cfg.session;
        let open = rules.is_open(at);
        if !system {
            match req.variety {
                Variety::Regular if !open => return Err(Reject::MarketClosed),
                Variety::Amo if open && !rules.always_open => {
                    return Err(Reject::AmoDuringSession);
                }
                _ => {}
            }
            if req.product == Product::Mis && rules.past_mis_cutoff(at) {
                return Err(Reject::MisCutoff {
                    cutoff: hhmm(rules.mis_cutoff.unwrap_or_default()),
                });
            }
        }
        let Some(q) = self.quotes.get(inst.0 as usize).copied().flatten() else {
            return Err(Reject::NoQuote {
                tradingsymbol: self.instruments.get(inst).tradingsymbol.clone(),
            });
        };
        if let (true, Some(trigger)) = (req.order_type.is_stop(), req.trigger_price) {
            let wrong_side = match req.side {
                Side::Buy => trigger <= q.ltp,
                Side::Sell => trigger >= q.ltp,
            };
            if wrong_side {
                return Err(Reject::TriggerSide {
                    side: req.side,
                    trigger,
                    ltp: q.ltp,
                });
            }
        }
        if req.product == Product::Cnc && req.side == Side::Sell {
            let acc = &self.state.accounts[&req.account];
            let sym = self.instruments.get(inst).tradingsymbol.clone();
            let held = acc
                .positions
                .get(&(sym.clone(), Product::Cnc))
                .map_or(0, |p| p.quantity);
            let selling: i64 = acc
                .open_orders
                .iter()
                .filter_map(|id| self.state.orders.get(id))
                .filter(|o| {
                    o.product == Product::Cnc
                        && o.transaction_type == Side::Sell
                        && o.tradingsymbol == sym
                })
                .map(|o| o.pending_quantity)
                .sum();
            if held - selling < req.quantity {
                return Err(Reject::InsufficientHoldings {
                    tradingsymbol: sym,
                    quantity: req.quantity,
                    held: held - selling,
                });
            }
        }
        Ok((inst, slices))
    }

    pub(super) fn modify(
        &mut self,
        at: Millis,
        account: AccountId,
        order_id: OrderId,
        ch: OrderChanges,
    ) -> Result<Reply, Rejection> {
        let mut o = self.own_open_order(account, order_id)?.clone();
        let inst = self.instrument(&o.tradingsymbol)?;
        let Some(spec) = self.instruments.get(inst).spec else {
            return Err(Reject::NotTradable {
                tradingsymbol: o.tradingsymbol.clone(),
                why: "no contract specification".into(),
            }
            .into());
        };
        let order_type = ch.order_type.unwrap_or(o.order_type);
        if o.triggered && order_type != o.order_type {
            return Err(Reject::PriceNotAllowed {
                field: "order_type",
                order_type,
            }
            .into());
        }
        let price = if order_type.has_limit() {
            Some(ch.price.unwrap_or(o.price))
        } else {
            ch.price.filter(|p| *p != 0)
        };
        let trigger = if order_type.is_stop() {
            Some(ch.trigger_price.unwrap_or(o.trigger_price))
        } else {
            ch.trigger_price.filter(|p| *p != 0)
        };
        check_prices(
            order_type,
            o.transaction_type,
            price,
            trigger,
            i64::from(spec.tick_paise),
        )?;
        let quantity = ch.quantity.unwrap_or(o.quantity);
        if quantity <= 0 {
            return Err(Reject::QuantityNotPositive { quantity }.into());
        }
        if quantity > i64::from(spec.freeze_qty).min(MAX_QUANTITY) {
            return Err(Reject::FreezeQuantity {
                quantity,
                freeze_qty: spec.freeze_qty,
            }
            .into());
        }
        if quantity % i64::from(spec.lot_size) != 0 {
            return Err(Reject::NotLotMultiple {
                quantity,
                lot_size: spec.lot_size,
            }
            .into());
        }
        if quantity <= o.filled_quantity {
            return Err(Reject::BelowFilled {
                quantity,
                filled: o.filled_quantity,
            }
            .into());
        }
        let validity = ch.validity.unwrap_or(o.validity);
        let ttl = ch.validity_ttl.or(o.validity_ttl);
        if validity == Validity::Ttl && !ttl.is_some_and(|m| (1..=1440).contains(&m)) {
            return Err(Reject::BadTtl { ttl }.into());
        }
        if order_type.is_stop()
            && !o.triggered
            && let (Some(t), Some(q)) = (trigger, self.quotes[inst.0 as usize])
        {
            let wrong = match o.transaction_type {
                Side::Buy => t <= q.ltp,
                Side::Sell => t >= q.ltp,
            };
            if wrong {
                return Err(Reject::TriggerSide {
                    side: o.transaction_type,
                    trigger: t,
                    ltp: q.ltp,
                }
                .into());
            }
        }
        // Margin: the order's pending part is replaced by the new one.
        let old_price = self.pending_price(inst, &o);
        let new_pending = quantity - o.filled_quantity;
        let sign = o.transaction_type.sign();
        let mut probe = o.clone();
        probe.order_type = order_type;
        probe.price = price.unwrap_or(0);
        probe.trigger_price = trigger.unwrap_or(0);
        let new_price = self.pending_price(inst, &probe);
        let add = HypoLeg {
            instrument: inst,
            quantity: sign * new_pending,
            product: o.product,
            price: new_price,
            pending: true,
        };
        let remove = HypoLeg {
            instrument: inst,
            quantity: sign * o.pending_quantity,
            product: o.product,
            price: old_price,
            pending: true,
        };
        if !o.system {
            self.check_margin(account, &[add], &[remove])?;
        }
        o.order_type = order_type;
        o.price = price.unwrap_or(0);
        o.trigger_price = trigger.unwrap_or(0);
        o.quantity = quantity;
        o.pending_quantity = new_pending;
        o.validity = validity;
        o.validity_ttl = if validity == Validity::Ttl { ttl } else { None };
        if !o.order_type.is_stop() {
            o.triggered = false;
        }
        o.status = if o.status == Status::AmoReqReceived {
            Status::AmoReqReceived
        } else if o.awaiting_trigger() {
            Status::TriggerPending
        } else {
            Status::Open
        };
        o.status_message = None;
        self.emit_order(at, o);
        if self.state.orders[&order_id].status != Status::AmoReqReceived {
            self.offer(at, inst, order_id, true);
        }
        Ok(Reply::Orders(vec![order_id]))
    }

    pub(super) fn convert(
        &mut self,
        at: Millis,
        account: AccountId,
        tradingsymbol: &str,
        from: Product,
        to: Product,
        quantity: i64,
    ) -> Result<Reply, Rejection> {
        self.account_exists(account)?;
        let inst = self.instrument(tradingsymbol)?;
        let info = self.instruments.get(inst);
        let sym = info.tradingsymbol.clone();
        let fo = matches!(info.kind, Kind::Future | Kind::Option);
        let allowed = fo
            && matches!(
                (from, to),
                (Product::Mis, Product::Nrml) | (Product::Nrml, Product::Mis)
            );
        if !allowed {
            return Err(Reject::ProductNotAllowed {
                product: to,
                kind: if fo {
                    "conversion between these products"
                } else {
                    "conversion of equity positions"
                },
            }
            .into());
        }
        if to == Product::Mis && self.cfg.session.past_mis_cutoff(at) {
            return Err(Reject::MisCutoff {
                cutoff: hhmm(self.cfg.session.mis_cutoff.unwrap_or_default()),
            }
            .into());
        }
        let have = self.state.accounts[&account]
            .positions
            .get(&(sym.clone(), from))
            .map_or(0, |p| p.quantity);
        if quantity <= 0 || quantity > have.abs() {
            return Err(Reject::NothingToConvert {
                tradingsymbol: sym,
                product: from,
                quantity,
                have,
            }
            .into());
        }
        self.emit(
            at,
            EventBody::Converted {
                account,
                tradingsymbol: sym,
                quantity: have.signum() * quantity,
                from,
                to,
            },
        );
        Ok(Reply::Done)
    }
}
