//! Expiries and the option chain (quotes per strike, PCR, max pain).

#[allow(clippy::wildcard_imports)]
use super::*;

/// Weekly and monthly expiries of `underlying` not yet expired at `now_ms`.
pub(super) fn listed_expiries(
    underlying: &str,
    weekly_n: usize,
    monthly_n: usize,
    now_ms: i64,
) -> (Vec<NaiveDate>, Vec<NaiveDate>) {
    let cal = Calendar::embedded();
    let now = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
    (
        cal.live_expiries(underlying, ExpiryKind::Weekly, now, weekly_n),
        cal.live_expiries(underlying, ExpiryKind::Monthly, now, monthly_n),
    )
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct UnderlyingQuery {
    #[param(value_type = crate::wire::schema::Underlying, inline)]
    pub underlying: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ExpiriesResponse {
    pub underlying: String,
    pub weekly: Vec<NaiveDate>,
    pub monthly: Vec<NaiveDate>,
}

/// `GET /fo/expiries`: the coming weekly (where listed) and monthly expiries.
#[utoipa::path(get, path = "/fo/expiries", tag = "market", params(UnderlyingQuery), security(("bearer" = [])), responses((status = 200, body = ExpiriesResponse)))]
pub(super) async fn expiries(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<UnderlyingQuery>,
) -> Result<Json<ExpiriesResponse>, ApiError> {
    auth.require_read()?;
    let name = required_underlying(q.underlying.as_deref())?;
    let (weekly, monthly) = listed_expiries(&name, WEEKLY_AHEAD, MONTHLY_AHEAD, state.market_now());
    Ok(Json(ExpiriesResponse {
        underlying: name,
        weekly,
        monthly,
    }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ChainStrike {
    pub strike: f64,
    pub call: Option<QuoteOut>,
    pub put: Option<QuoteOut>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ChainResponse {
    pub underlying: String,
    pub spot: Option<f64>,
    pub expiry: Option<NaiveDate>,
    pub strikes: Vec<ChainStrike>,
    pub pcr_oi: Option<f64>,
    pub max_pain: Option<f64>,
}

/// `GET /fo/option-chain`: one expiry's strikes with both sides' quotes, PCR by OI and max pain
/// by OI. Without `expiry`, the nearest one quoted.
#[utoipa::path(get, path = "/fo/option-chain", tag = "market", params(ExpiryQuery), security(("bearer" = [])), responses((status = 200, body = ChainResponse)))]
pub(super) async fn option_chain(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<ExpiryQuery>,
) -> Result<Json<ChainResponse>, ApiError> {
    auth.require_read()?;
    let name = required_underlying(q.underlying.as_deref())?;
    let wanted = date_param("expiry", q.expiry.as_deref())?;
    let (now, wall, basis) = (state.market_now(), now_ms(), state.age_basis());
    let snap = crate::routes::snapshot(&state)?;
    let Some(view) = snap.underlying(&name) else {
        return Ok(Json(ChainResponse {
            underlying: name,
            spot: None,
            expiry: wanted,
            strikes: Vec::new(),
            pcr_oi: None,
            max_pain: None,
        }));
    };
    let today = crate::routes::ist_today(now);
    let expiry = wanted.or_else(|| view.nearest_expiry(today));
    let mut strikes: Vec<ChainStrike> = Vec::new();
    // Options without an IV of their own (no time value) get the expiry's smile there.
    let smile = expiry
        .and_then(|e| snap.smile(&name, e, now))
        .and_then(|v| v.fit.ok());
    let out = |o: &Quote| {
        let mut q = QuoteOut::from(o, wall, basis);
        if q.iv.is_none()
            && let (Some(fit), Some(k)) = (&smile, o.strike)
        {
            q.smile_iv = Some(fit.iv(k)).filter(|v| v.is_finite() && *v > 0.0);
        }
        q
    };
    if let Some(e) = expiry {
        let mut legs: Vec<&Quote> = view
            .options
            .iter()
            .copied()
            .filter(|o| o.expiry == Some(e))
            .collect();
        legs.sort_by(|a, b| a.strike.unwrap_or(0.0).total_cmp(&b.strike.unwrap_or(0.0)));
        for o in legs {
            let Some(k) = o.strike else { continue };
            if strikes.last().is_none_or(|s| s.strike != k) {
                strikes.push(ChainStrike {
                    strike: k,
                    call: None,
                    put: None,
                });
            }
            if let Some(row) = strikes.last_mut() {
                match o.right {
                    Some(stocksblitz_symbols::Right::Call) => row.call = Some(out(o)),
                    Some(stocksblitz_symbols::Right::Put) => row.put = Some(out(o)),
                    None => {}
                }
            }
        }
    }
    let rows = expiry.map(|e| view.chain_rows(e)).unwrap_or_default();
    Ok(Json(ChainResponse {
        underlying: name,
        spot: view.index.map(|q| q.ltp).filter(|v| v.is_finite()),
        expiry,
        strikes,
        pcr_oi: pcr_oi(&rows).filter(|v| v.is_finite()),
        max_pain: max_pain(&rows),
    }))
}
