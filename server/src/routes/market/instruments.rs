//! `/instruments` (the live universe, filtered and paged) and `/instruments/resolve` (a spec such as\n`NIFTY:1w:ATM:CE` to a tradingsymbol).

use super::*;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct InstrumentsQuery {
    #[param(value_type = Option<crate::wire::schema::UnderlyingOrBlank>, inline)]
    pub underlying: Option<String>,
    #[param(value_type = Option<crate::wire::schema::InstrumentKindOrBlank>, inline)]
    pub kind: Option<String>,
    #[param(value_type = Option<crate::wire::schema::DateText>, inline)]
    pub expiry: Option<String>,
    #[param(value_type = Option<crate::wire::schema::RightOrBlank>, inline)]
    pub right: Option<String>,
    #[param(value_type = Option<u64>, minimum = 1, maximum = 1000)]
    pub limit: Option<crate::routes::Count>,
    #[param(value_type = Option<u64>, minimum = 0, maximum = 1_000_000)]
    pub offset: Option<crate::routes::Count>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct InstrumentOut {
    pub tradingsymbol: String,
    pub token: Option<u64>,
    pub kind: &'static str,
    pub underlying: String,
    pub expiry: Option<NaiveDate>,
    pub strike: Option<f64>,
    pub right: Option<&'static str>,
    pub lot_size: Option<u32>,
    pub tick_size: Option<f64>,
    pub exchange: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct InstrumentsResponse {
    pub total: usize,
    pub instruments: Vec<InstrumentOut>,
}

pub(super) fn instrument_out(q: &Quote) -> InstrumentOut {
    let sym = stocksblitz_symbols::parse(&q.tradingsymbol).ok();
    InstrumentOut {
        tradingsymbol: q.tradingsymbol.to_string(),
        token: q.token,
        kind: q.kind.as_str(),
        underlying: q.underlying.to_string(),
        expiry: q.expiry,
        strike: q.strike,
        right: q.right.map(stocksblitz_symbols::Right::as_str),
        lot_size: q.lot_size,
        tick_size: q.tick_size,
        exchange: sym.map_or("NSE", |s| s.exchange.as_str()),
    }
}

/// `GET /instruments`: the instruments quoted by the feed, filtered and paged (sorted by
/// underlying, kind, expiry, strike).
#[utoipa::path(get, path = "/instruments", tag = "market", params(InstrumentsQuery), security(("bearer" = [])), responses((status = 200, body = InstrumentsResponse)))]
pub(super) async fn instruments(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<InstrumentsQuery>,
) -> Result<Json<InstrumentsResponse>, ApiError> {
    auth.require_read()?;
    let underlying = match q
        .underlying
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(raw) => Some(underlying_name(raw)?),
        None => None,
    };
    let kind = match q.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(k) => Some(match k.to_ascii_lowercase().as_str() {
            "index" => TickKind::Index,
            "future" | "fut" => TickKind::Future,
            "option" | "opt" => TickKind::Option,
            "equity" | "eq" => TickKind::Equity,
            _ => {
                return Err(ApiError::bad_param(
                    "kind",
                    format!(
                        "expected index, future, option or equity, got {:?}",
                        k.chars().take(32).collect::<String>()
                    ),
                ));
            }
        }),
    };
    let expiry = date_param("expiry", q.expiry.as_deref())?;
    let right = match q.right.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(r) => Some(
            r.parse::<stocksblitz_symbols::Right>()
                .map_err(|e| ApiError::bad_param("right", e))?,
        ),
    };
    let limit = bounded(
        "limit",
        q.limit.map(Count::get),
        100,
        1,
        MAX_INSTRUMENTS_PAGE,
    )?;
    let offset = bounded("offset", q.offset.map(Count::get), 0, 0, 1_000_000)?;
    let snap = crate::routes::snapshot(&state)?;
    let mut all: Vec<&Quote> = snap
        .quotes()
        .filter(|x| underlying.as_deref().is_none_or(|u| x.underlying == u))
        .filter(|x| kind.is_none_or(|k| x.kind == k))
        .filter(|x| expiry.is_none_or(|e| x.expiry == Some(e)))
        .filter(|x| right.is_none_or(|r| x.right == Some(r)))
        .collect();
    all.sort_by(|a, b| {
        (
            a.underlying.as_str(),
            a.kind.as_str(),
            a.expiry,
            a.right.map(stocksblitz_symbols::Right::as_str),
        )
            .cmp(&(
                b.underlying.as_str(),
                b.kind.as_str(),
                b.expiry,
                b.right.map(stocksblitz_symbols::Right::as_str),
            ))
            .then(a.strike.unwrap_or(0.0).total_cmp(&b.strike.unwrap_or(0.0)))
            .then(a.tradingsymbol.cmp(&b.tradingsymbol))
    });
    let total = all.len();
    let instruments = all
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(instrument_out)
        .collect();
    Ok(Json(InstrumentsResponse { total, instruments }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ResolveQuery {
    #[param(value_type = crate::wire::schema::InstrumentSpecText, inline)]
    pub spec: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ResolveResponse {
    pub spec: String,
    pub tradingsymbol: String,
    pub kind: &'static str,
    pub underlying: String,
    pub expiry: Option<NaiveDate>,
    pub strike: Option<f64>,
    pub right: Option<&'static str>,
    pub exchange: &'static str,
    pub spot: f64,
}

/// `GET /instruments/resolve?spec=NSE@NIFTY@Nw+1@Put@OTM2`: the instrument the spec names now
/// (strikes relative to the live spot, expiries from the calendar).
#[utoipa::path(get, path = "/instruments/resolve", tag = "market", params(ResolveQuery), security(("bearer" = [])), responses((status = 200, body = ResolveResponse)))]
pub(super) async fn resolve(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<ResolveQuery>,
) -> Result<Json<ResolveResponse>, ApiError> {
    auth.require_read()?;
    let raw = q
        .spec
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_param("spec", "is required"))?;
    let spec = InstrumentSpec::parse(raw).map_err(|e| ApiError::bad_param("spec", e))?;
    let stocksblitz_engine::Resolved { symbol: sym, spot } =
        state.engine.resolve(&spec, state.market_now())?;
    Ok(Json(ResolveResponse {
        spec: raw.to_string(),
        tradingsymbol: sym.tradingsymbol.to_string(),
        kind: sym.kind.as_str(),
        underlying: sym.underlying.to_string(),
        expiry: sym.expiry,
        strike: sym.strike.map(stocksblitz_symbols::Strike::value),
        right: sym.right.map(stocksblitz_symbols::Right::as_str),
        exchange: sym.exchange.as_str(),
        spot,
    }))
}
