//! Expiries and the option chain (quotes per strike, PCR, max pain).

use super::*;

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
    let e =
        stocksblitz_engine::chain::expiries(&name, WEEKLY_AHEAD, MONTHLY_AHEAD, state.market_now());
    Ok(Json(ExpiriesResponse {
        underlying: name,
        weekly: e.weekly,
        monthly: e.monthly,
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
    let (wall, basis) = (now_ms(), state.age_basis());
    let chain = state
        .engine
        .option_chain(&name, wanted, state.market_now())?;
    let leg = |l: &stocksblitz_engine::ChainLeg| {
        let mut q = QuoteOut::from(&l.quote, wall, basis);
        q.smile_iv = l.smile_iv;
        q
    };
    Ok(Json(ChainResponse {
        underlying: name,
        spot: chain.spot,
        expiry: chain.expiry,
        strikes: chain
            .strikes
            .iter()
            .map(|s| ChainStrike {
                strike: s.strike,
                call: s.call.as_ref().map(leg),
                put: s.put.as_ref().map(leg),
            })
            .collect(),
        pcr_oi: chain.pcr_oi,
        max_pain: chain.max_pain,
    }))
}
