//! Kite's user routes: `GET /user/margins[/{segment}]`, `GET /user/profile`.

use std::sync::Arc;

use axum::extract::{Path, State};
use serde::Serialize;

use super::orders::{kite_user_id, read};
use super::{KiteAuth, KiteError, KiteResult, ok};
use crate::state::AppState;
use crate::wire::trading::funds_out;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

super::kite_envelope!(KiteUserMarginsEnvelope, UserMargins);
super::kite_envelope!(KiteSegmentEnvelope, Segment);
super::kite_envelope!(KiteProfileEnvelope, Profile);

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub(crate) struct SegmentAvailable {
    pub adhoc_margin: f64,
    pub cash: f64,
    pub opening_balance: f64,
    pub live_balance: f64,
    pub collateral: f64,
    pub intraday_payin: f64,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub(crate) struct SegmentUtilised {
    pub debits: f64,
    pub exposure: f64,
    pub m2m_realised: f64,
    pub m2m_unrealised: f64,
    pub option_premium: f64,
    pub payout: f64,
    pub span: f64,
    pub holding_sales: f64,
    pub turnover: f64,
    pub liquid_collateral: f64,
    pub stock_collateral: f64,
    pub delivery: f64,
}

/// One segment of Kite's `user/margins`.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub(crate) struct Segment {
    pub enabled: bool,
    pub net: f64,
    pub available: SegmentAvailable,
    pub utilised: SegmentUtilised,
}

/// `{equity, commodity}` (the paper broker trades the equity segment, F&O included).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct UserMargins {
    pub equity: Segment,
    pub commodity: Segment,
}

async fn equity_segment(state: &AppState, auth: &KiteAuth) -> Result<Segment, KiteError> {
    let f = read(state, auth, |e, id, _| e.funds(id)).await?;
    let f = funds_out(&f.unwrap_or_default());
    Ok(Segment {
        enabled: true,
        net: f.net,
        available: SegmentAvailable {
            adhoc_margin: 0.0,
            cash: f.available.cash,
            opening_balance: f.available.opening_balance,
            live_balance: f.available.live_balance,
            collateral: f.available.collateral,
            intraday_payin: f.available.intraday_payin,
        },
        utilised: SegmentUtilised {
            debits: f.utilised.debits,
            exposure: f.utilised.exposure,
            m2m_realised: f.utilised.m2m_realised,
            m2m_unrealised: f.utilised.m2m_unrealised,
            option_premium: f.utilised.option_premium,
            span: f.utilised.span,
            ..SegmentUtilised::default()
        },
    })
}

/// `GET /kite/user/margins`: funds of the caller's primary account in Kite's shape.
#[utoipa::path(get, path = "/kite/user/margins", tag = "kite", security(("bearer" = [])), responses((status = 200, body = KiteUserMarginsEnvelope)))]
pub(crate) async fn user_margins(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
) -> KiteResult<UserMargins> {
    Ok(ok(UserMargins {
        equity: equity_segment(&state, &auth).await?,
        commodity: Segment::default(),
    }))
}

/// `GET /kite/user/margins/{segment}`: `equity` or `commodity`.
#[utoipa::path(get, path = "/kite/user/margins/{segment}", tag = "kite", params(("segment" = String, Path)), security(("bearer" = [])), responses((status = 200, body = KiteSegmentEnvelope), (status = 400, body = super::KiteErrorBody)))]
pub(crate) async fn user_margins_segment(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    Path(segment): Path<String>,
) -> KiteResult<Segment> {
    match segment.as_str() {
        "equity" => Ok(ok(equity_segment(&state, &auth).await?)),
        "commodity" => {
            auth.read()?;
            Ok(ok(Segment::default()))
        }
        other => Err(KiteError::input(format!(
            "Invalid segment {:?} (equity or commodity)",
            other.chars().take(32).collect::<String>()
        ))),
    }
}

/// The profile Kite scripts read at start-up.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Profile {
    pub user_id: String,
    pub user_name: String,
    pub user_shortname: String,
    pub user_type: &'static str,
    pub email: String,
    pub broker: &'static str,
    pub exchanges: Vec<&'static str>,
    pub products: Vec<&'static str>,
    pub order_types: Vec<&'static str>,
    pub avatar_url: Option<String>,
    pub meta: serde_json::Value,
}

/// `GET /kite/user/profile`.
#[utoipa::path(get, path = "/kite/user/profile", tag = "kite", security(("bearer" = [])), responses((status = 200, body = KiteProfileEnvelope)))]
pub(crate) async fn profile(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
) -> KiteResult<Profile> {
    auth.read()?;
    let user = state
        .store
        .user_by_id(auth.0.0.user_id)
        .await
        .map_err(crate::error::ApiError::store_unavailable)?;
    let (email, name) = user.map_or((String::new(), String::new()), |u| (u.email, u.name));
    Ok(ok(Profile {
        user_id: kite_user_id(&auth),
        user_shortname: name.split_whitespace().next().unwrap_or("").to_string(),
        user_name: name,
        user_type: "individual",
        email,
        broker: "STOCKSBLITZ",
        exchanges: vec!["NSE", "NFO", "BSE", "BFO"],
        products: vec!["CNC", "NRML", "MIS"],
        order_types: vec!["MARKET", "LIMIT", "SL", "SL-M"],
        avatar_url: None,
        meta: serde_json::json!({"demat_consent": "physical"}),
    }))
}

/// This area's routes (merged by [`super::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(user_margins))
        .routes(routes!(user_margins_segment))
        .routes(routes!(profile))
}
