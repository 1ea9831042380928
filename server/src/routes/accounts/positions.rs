//! An account's positions (now and as they stood, valued at the day's prices) and trades.

use super::*;

/// `GET /accounts/{account_id}/positions`: net positions (flat ones of the day included).
#[utoipa::path(get, path = "/accounts/{account_id}/positions", tag = "trading", params(("account_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = PositionsEnvelope)))]
pub(super) async fn positions(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(account_id): Path<String>,
) -> Result<Json<PositionsEnvelope>, ApiError> {
    let v = read(&state, &auth, &account_id, |e, id| {
        e.account(id)
            .map(|a| a.positions.values().map(|p| position_out(e, p)).collect())
            .unwrap_or_default()
    })
    .await?;
    Ok(PositionsEnvelope::ok(v))
}

/// One state of a position.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct PositionSnapshotOut {
    /// Epoch ms.
    pub snapshot_time: i64,
    pub tradingsymbol: String,
    pub product: &'static str,
    pub quantity: i64,
    pub average_price: f64,
    pub last_price: f64,
    pub unrealized_pnl: f64,
    pub realized_pnl: f64,
}

envelope!(PositionHistoryEnvelope, Vec<PositionSnapshotOut>);

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct PositionHistoryQuery {
    /// The instrument (default: every position of the account).
    pub tradingsymbol: Option<String>,
    /// `MIS`, `NRML` or `CNC` (default: every product).
    #[param(value_type = Option<crate::wire::schema::ProductOrBlank>, inline)]
    pub product: Option<String>,
    /// The newest this many states (1-10,000, default 100).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 10000)]
    pub lookback: Option<crate::routes::Count>,
}

/// `GET /accounts/{account_id}/positions/history`: each position's states from the books —
/// one after every fill that changed it (valued at that fill's price), then one now (at the
/// latest quote) — oldest first.
#[utoipa::path(get, path = "/accounts/{account_id}/positions/history", tag = "trading", params(("account_id" = inline(crate::wire::schema::RowId), Path), PositionHistoryQuery), security(("bearer" = [])), responses((status = 200, body = PositionHistoryEnvelope)))]
pub(super) async fn position_history(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(account_id): Path<String>,
    crate::error::ApiQuery(q): crate::error::ApiQuery<PositionHistoryQuery>,
) -> Result<Json<PositionHistoryEnvelope>, ApiError> {
    let lookback = crate::routes::bounded(
        "lookback",
        q.lookback.map(crate::routes::Count::get),
        100,
        1,
        10_000,
    )?;
    let product: Option<Product> = q
        .product
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .transpose()
        .map_err(|e| ApiError::bad_param("product", e))?;
    let sym = q
        .tradingsymbol
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    if sym.as_ref().is_some_and(|s| s.len() > 64) {
        return Err(ApiError::bad_param(
            "tradingsymbol",
            "at most 64 characters",
        ));
    }
    let now = state.clock.now();
    let mut rows = read(&state, &auth, &account_id, |e, id| {
        let mut out = Vec::new();
        let Some(acc) = e.account(id) else {
            return out;
        };
        let mut books: std::collections::BTreeMap<(String, Product), (Position, Paise)> =
            std::collections::BTreeMap::default();
        for t in &acc.trades {
            if sym
                .as_deref()
                .is_some_and(|s| s != t.tradingsymbol.as_str())
                || product.is_some_and(|p| p != t.product)
            {
                continue;
            }
            let (p, realised) = books
                .entry((t.tradingsymbol.to_string(), t.product))
                .or_insert_with(|| (Position::new(&t.tradingsymbol, &t.exchange, t.product), 0));
            *realised += p
                .apply_fill(t.transaction_type.sign() * t.quantity, t.price)
                .realised;
            out.push(history_row(t.at, p, t.price, *realised));
        }
        for ((s, _), (p, realised)) in &books {
            let ltp = e
                .quote_of(s)
                .map_or(p.average_price().round() as Paise, |q| q.ltp);
            out.push(history_row(now, p, ltp, *realised));
        }
        out
    })
    .await?;
    rows.sort_by_key(|r| r.snapshot_time);
    if rows.len() > lookback {
        rows.drain(..rows.len() - lookback);
    }
    Ok(PositionHistoryEnvelope::ok(rows))
}

pub(super) fn history_row(
    at: i64,
    p: &Position,
    price: Paise,
    realised: Paise,
) -> PositionSnapshotOut {
    PositionSnapshotOut {
        snapshot_time: at,
        tradingsymbol: p.tradingsymbol.to_string(),
        product: p.product.as_str(),
        quantity: p.quantity,
        average_price: p.average_price() / 100.0,
        last_price: rupees(price),
        unrealized_pnl: rupees(p.unrealised(price)),
        realized_pnl: rupees(realised),
    }
}

/// `GET /accounts/{account_id}/trades`: every fill, oldest first.
#[utoipa::path(get, path = "/accounts/{account_id}/trades", tag = "trading", params(("account_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = TradesEnvelope)))]
pub(super) async fn trades(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(account_id): Path<String>,
) -> Result<Json<TradesEnvelope>, ApiError> {
    let v = read(&state, &auth, &account_id, |e, id| {
        e.account(id)
            .map(|a| a.trades.iter().map(trade_out).collect())
            .unwrap_or_default()
    })
    .await?;
    Ok(TradesEnvelope::ok(v))
}
