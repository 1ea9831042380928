//! Kite's `GET /instruments/historical/{token}/{interval}`: candles from the engine, times in IST.

use super::*;

super::super::kite_envelope!(KiteCandlesEnvelope, Candles);

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct HistoricalQuery {
    /// `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD` (IST).
    pub from: Option<String>,
    pub to: Option<String>,
    /// `1` to include open interest.
    pub oi: Option<String>,
    /// Accepted for pykiteconnect's sake and ignored: continuous futures are not stitched.
    #[expect(dead_code, reason = "part of Kite's query, read by no one")]
    pub continuous: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct Candles {
    /// `[time, open, high, low, close, volume(, oi)]`, time as `YYYY-MM-DDTHH:MM:SS+0530`.
    pub candles: Vec<Vec<serde_json::Value>>,
}

pub(super) fn ist_param(name: &str, raw: Option<&str>, end_of_day: bool) -> Result<i64, KiteError> {
    let raw = raw
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| KiteError::input(format!("Missing `{name}`")))?;
    let dt = NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d").map(|d| {
                if end_of_day {
                    d.and_hms_opt(23, 59, 59).unwrap_or_default()
                } else {
                    d.and_hms_opt(0, 0, 0).unwrap_or_default()
                }
            })
        })
        .map_err(|_| {
            KiteError::input(format!(
                "Invalid `{name}`: {:?} (YYYY-MM-DD HH:MM:SS)",
                raw.chars().take(32).collect::<String>()
            ))
        })?;
    Ok(dt.and_utc().timestamp() - stocksblitz_market::IST_OFFSET_SECS)
}

/// Most candles one request returns.
pub(super) const MAX_CANDLES: usize = 20_000;

/// `GET /kite/instruments/historical/{instrument_token}/{interval}`: candles from our store
/// (interval: minute, 3minute, 5minute, 10minute, 15minute, 30minute, 60minute, day).
#[utoipa::path(get, path = "/kite/instruments/historical/{instrument_token}/{interval}", tag = "kite", params(("instrument_token" = u64, Path), ("interval" = String, Path), HistoricalQuery), security(("bearer" = [])), responses((status = 200, body = KiteCandlesEnvelope), (status = 400, body = super::super::KiteErrorBody)))]
pub(super) async fn historical(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    Path((token, interval)): Path<(String, String)>,
    Query(q): Query<HistoricalQuery>,
) -> KiteResult<Candles> {
    auth.read()?;
    let token: u64 = token.trim().parse().map_err(|_| {
        KiteError::input(format!(
            "Invalid instrument token {:?}",
            token.chars().take(24).collect::<String>()
        ))
    })?;
    let tf = Timeframe::parse(&interval)
        .map_err(|e| KiteError::input(format!("Invalid interval: {e}")))?;
    let from = ist_param("from", q.from.as_deref(), false)?;
    let to = ist_param("to", q.to.as_deref(), true)?;
    if from > to {
        return Err(KiteError::input("`from` is after `to`"));
    }
    let with_oi = matches!(q.oi.as_deref(), Some("1" | "true"));
    let sym = {
        let snap = crate::routes::snapshot(&state)?;
        snap.quotes()
            .find(|x| token_of(x) == token)
            .map(|x| x.tradingsymbol.to_string())
    }
    .ok_or_else(|| KiteError::input(format!("Unknown instrument token {token}")))?;
    let now = now_ms() / 1000;
    let to = to.min(now);
    let span = usize::try_from((to - from).max(0) / 60 / tf.minutes().max(1) as i64 + 2)
        .unwrap_or(MAX_CANDLES);
    let window = stocksblitz_engine::BarWindow {
        from: Some(from),
        to: Some(to),
        limit: span.min(MAX_CANDLES),
    };
    let (bars, _) = state
        .engine
        .bars(&sym, tf, window)
        .await
        .map_err(crate::error::ApiError::from)?;
    let candles = bars
        .into_iter()
        .map(|b| {
            let t =
                chrono::DateTime::from_timestamp(b.start + stocksblitz_market::IST_OFFSET_SECS, 0)
                    .map(|d| d.format("%Y-%m-%dT%H:%M:%S+0530").to_string())
                    .unwrap_or_default();
            let mut row = vec![
                serde_json::json!(t),
                serde_json::json!(b.open),
                serde_json::json!(b.high),
                serde_json::json!(b.low),
                serde_json::json!(b.close),
                serde_json::json!(b.volume),
            ];
            if with_oi {
                row.push(serde_json::json!(b.oi.unwrap_or(0)));
            }
            row
        })
        .collect();
    Ok(ok(Candles { candles }))
}
