//! Kite's instrument dumps: `GET /instruments[/{exchange}]` as CSV.

use super::*;

pub(super) const EXCHANGES: &[&str] = &["NSE", "NFO", "BSE", "BFO"];

pub(super) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub(super) fn instruments_csv(
    state: &AppState,
    exchange: Option<&str>,
) -> Result<Response, KiteError> {
    let snap = crate::routes::snapshot(state)?;
    let mut rows: Vec<&Quote> = snap
        .quotes()
        .filter(|q| exchange.is_none_or(|x| exchange_segment(q).0 == x))
        .collect();
    rows.sort_by(|a, b| a.tradingsymbol.cmp(&b.tradingsymbol));
    let mut out = String::from(
        "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange\n",
    );
    for q in rows {
        let (ex, seg) = exchange_segment(q);
        let token = token_of(q);
        let name = if q.kind == TickKind::Index {
            q.tradingsymbol.as_str()
        } else {
            q.underlying.as_str()
        };
        out.push_str(&format!(
            "{token},{},{},{},{},{},{},{},{},{},{seg},{ex}\n",
            token / 256,
            csv_field(&q.tradingsymbol),
            csv_field(name),
            q.ltp,
            q.expiry.map(|d| d.to_string()).unwrap_or_default(),
            q.strike.unwrap_or(0.0),
            q.tick_size.unwrap_or(0.05),
            q.lot_size.unwrap_or(1),
            instrument_type(q),
        ));
    }
    Ok(([(CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response())
}

/// `GET /kite/instruments`: every quoted instrument as Kite's CSV.
#[utoipa::path(get, path = "/kite/instruments", tag = "kite", security(("bearer" = [])), responses((status = 200, content_type = "text/csv", body = String)))]
pub(super) async fn instruments(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
) -> Result<Response, KiteError> {
    auth.read()?;
    instruments_csv(&state, None)
}

/// `GET /kite/instruments/{exchange}`: one exchange's instruments (NSE, NFO, BSE, BFO).
#[utoipa::path(get, path = "/kite/instruments/{exchange}", tag = "kite", params(("exchange" = String, Path)), security(("bearer" = [])), responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = super::super::KiteErrorBody)))]
pub(super) async fn instruments_of(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    Path(exchange): Path<String>,
) -> Result<Response, KiteError> {
    auth.read()?;
    let ex = exchange.trim().to_ascii_uppercase();
    if !EXCHANGES.contains(&ex.as_str()) {
        return Err(KiteError::input(format!(
            "Invalid exchange {:?} (one of {})",
            exchange.chars().take(16).collect::<String>(),
            EXCHANGES.join(", ")
        )));
    }
    instruments_csv(&state, Some(&ex))
}
