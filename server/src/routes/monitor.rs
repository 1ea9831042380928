//! `GET /monitor/snapshot`: latest quotes keyed by tradingsymbol, per underlying, ages computed
//! now; `price` kept as an alias of `ltp` for old readers.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use stocksblitz_market::snapshot::{AgeBasis, Snapshot};
use stocksblitz_market::tick::TickKind;

use super::underlying_name;
use crate::error::{ApiError, ApiQuery};
use crate::identity::extract::Auth;
use crate::ingest::now_ms;
use crate::state::AppState;
use crate::wire::quotes::QuoteOut;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SnapshotQuery {
    #[param(value_type = Option<crate::wire::schema::UnderlyingOrBlank>, inline)]
    pub underlying: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UnderlyingQuote {
    pub symbol: String,
    pub ltp: f64,
    pub close: f64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub volume: u64,
    pub ts: i64,
    pub age_ms: i64,
    pub is_mock: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UnderlyingSnapshot {
    pub underlying: Option<UnderlyingQuote>,
    pub futures: BTreeMap<String, QuoteOut>,
    pub options: BTreeMap<String, QuoteOut>,
}

/// One underlying (`?underlying=`): its quote, futures and options at the top level.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SnapshotOne {
    pub status: &'static str,
    pub as_of: String,
    pub underlying: Option<UnderlyingQuote>,
    pub futures: BTreeMap<String, QuoteOut>,
    pub options: BTreeMap<String, QuoteOut>,
}

/// Every underlying, by name.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SnapshotAll {
    pub status: &'static str,
    pub as_of: String,
    pub underlyings: BTreeMap<String, UnderlyingSnapshot>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(crate) enum SnapshotResponse {
    One(SnapshotOne),
    All(SnapshotAll),
}

fn view(snap: &Snapshot, name: &str, now: i64, basis: AgeBasis) -> UnderlyingSnapshot {
    let Some(v) = snap.underlying(name) else {
        return UnderlyingSnapshot {
            underlying: None,
            futures: BTreeMap::new(),
            options: BTreeMap::new(),
        };
    };
    UnderlyingSnapshot {
        underlying: v.index.map(|q| UnderlyingQuote {
            symbol: q.tradingsymbol.to_string(),
            ltp: q.ltp,
            close: q.ltp,
            open: q.open,
            high: q.high,
            low: q.low,
            volume: q.volume,
            ts: q.exchange_ts_ms / 1000,
            age_ms: q.age(basis, now),
            is_mock: q.is_mock,
        }),
        futures: v
            .futures
            .iter()
            .filter(|q| q.kind == TickKind::Future)
            .map(|q| (q.tradingsymbol.to_string(), QuoteOut::from(q, now, basis)))
            .collect(),
        options: v
            .options
            .iter()
            .map(|q| (q.tradingsymbol.to_string(), QuoteOut::from(q, now, basis)))
            .collect(),
    }
}

#[utoipa::path(get, path = "/monitor/snapshot", tag = "market", params(SnapshotQuery), security(("bearer" = [])), responses((status = 200, body = SnapshotResponse)))]
pub(crate) async fn snapshot(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<SnapshotQuery>,
) -> Result<Json<SnapshotResponse>, ApiError> {
    auth.require_read()?;
    let now = now_ms();
    let as_of = chrono::DateTime::from_timestamp_millis(now)
        .map(|d| d.to_rfc3339())
        .unwrap_or_default();
    let basis = state.age_basis();
    let snap = super::snapshot(&state)?;
    let resp = if let Some(raw) = q
        .underlying
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let name = underlying_name(raw)?;
        let v = view(&snap, &name, now, basis);
        SnapshotResponse::One(SnapshotOne {
            status: "ok",
            as_of,
            underlying: v.underlying,
            futures: v.futures,
            options: v.options,
        })
    } else {
        let all = snap
            .underlyings()
            .into_iter()
            .map(|n| (n.to_string(), view(&snap, n, now, basis)))
            .collect();
        SnapshotResponse::All(SnapshotAll {
            status: "ok",
            as_of,
            underlyings: all,
        })
    };
    Ok(Json(resp))
}

/// This area's routes (merged by [`crate::routes::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new().routes(routes!(snapshot))
}
