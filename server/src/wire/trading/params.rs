//! Order fields from requests into the broker's request, the `Idempotency-Key` header, and
//! trading errors as HTTP statuses.

use super::*;

pub(crate) fn trading_error(e: TradingError) -> ApiError {
    match e {
        TradingError::NotFound(id) => {
            ApiError::not_found("account_not_found", format!("no account {id}"))
        }
        TradingError::Rejected(rej) => reject_error(&rej.reason),
        TradingError::Unavailable { holder, .. } => ApiError {
            forward_to: holder
                .as_deref()
                .and_then(crate::trading::forward_target)
                .map(str::to_string),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shard_unavailable",
                "the account is served by another replica right now; retry",
            )
        },
        TradingError::Store(e) => ApiError::from_store(e),
        TradingError::CorruptLog { .. } => {
            tracing::error!(error = %e, "trading log unreadable");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "trading_unavailable",
                "the account's books cannot be read",
            )
        }
    }
}

pub(crate) fn reject_error(r: &Reject) -> ApiError {
    let code = match (r.kind(), r) {
        (_, Reject::InsufficientFunds { .. }) => "insufficient_funds",
        (RejectKind::NotFound, Reject::UnknownOrder { .. }) => "order_not_found",
        (RejectKind::NotFound, _) => "account_not_found",
        (RejectKind::Risk, _) => "order_rejected",
        (RejectKind::Invalid, _) => "order_invalid",
    };
    let status = if r.kind() == RejectKind::NotFound {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::BAD_REQUEST
    };
    ApiError::new(status, code, r.to_string())
}

pub(crate) fn id_param(name: &str, raw: &str) -> Result<u64, ApiError> {
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|v| *v > 0 && i64::try_from(*v).is_ok())
        .ok_or_else(|| {
            ApiError::bad_param(name, format!("must be a positive integer, got {raw:?}"))
        })
}

pub(crate) fn money_param(name: &str, v: Option<f64>) -> Result<Option<Paise>, ApiError> {
    match v {
        None => Ok(None),
        Some(x) => paise_from_f64(x)
            .filter(|p| *p >= 0)
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_param(
                    name,
                    format!("must be rupees with at most two decimals, got {x}"),
                )
            }),
    }
}

pub(crate) fn enum_param<T: std::str::FromStr<Err = stocksblitz_broker::UnknownValue>>(
    name: &str,
    v: Option<&str>,
    default: T,
) -> Result<T, ApiError> {
    match v {
        None => Ok(default),
        Some(s) => s.parse().map_err(|e| ApiError::bad_param(name, e)),
    }
}

/// The fields of an order to place, as text (both families parse them the same way).
#[derive(Debug, Default)]
pub(crate) struct OrderFields<'a> {
    pub tradingsymbol: &'a str,
    pub transaction_type: &'a str,
    pub quantity: i64,
    pub order_type: Option<&'a str>,
    pub product: Option<&'a str>,
    pub price: Option<f64>,
    pub trigger_price: Option<f64>,
    pub validity: Option<&'a str>,
    pub validity_ttl: Option<u32>,
    pub variety: Option<&'a str>,
    pub tag: Option<&'a str>,
    pub autoslice: bool,
}

/// The broker's request for `f` on `account` (400 naming the field for a bad value).
pub(crate) fn order_request(
    account: AccountId,
    f: &OrderFields<'_>,
) -> Result<OrderRequest, ApiError> {
    if f.tradingsymbol.len() > 64 {
        return Err(ApiError::bad_param(
            "tradingsymbol",
            "at most 64 characters",
        ));
    }
    if f.tag
        .is_some_and(|t| t.chars().count() > stocksblitz_broker::MAX_TAG_LEN)
    {
        return Err(ApiError::bad_param(
            "tag",
            format!("at most {} characters", stocksblitz_broker::MAX_TAG_LEN),
        ));
    }
    let side: Side = f
        .transaction_type
        .parse()
        .map_err(|e| ApiError::bad_param("transaction_type", e))?;
    let mut r = OrderRequest::new(
        account,
        f.tradingsymbol,
        side,
        f.quantity,
        enum_param("order_type", f.order_type, OrderType::Market)?,
        enum_param("product", f.product, Product::Mis)?,
    );
    r.price = money_param("price", f.price)?.filter(|p| *p != 0);
    r.trigger_price = money_param("trigger_price", f.trigger_price)?.filter(|p| *p != 0);
    r.validity = enum_param("validity", f.validity, Validity::Day)?;
    r.validity_ttl = f.validity_ttl;
    r.variety = enum_param("variety", f.variety, Variety::Regular)?;
    r.tag = f.tag.map(Into::into);
    r.autoslice = f.autoslice;
    Ok(r)
}

/// The `Idempotency-Key` header: 1–128 visible ASCII characters.
pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let k = v.to_str().map_or("", str::trim);
    if k.is_empty()
        || k.len() > stocksblitz_broker::MAX_IDEMPOTENCY_KEY_LEN
        || !k.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(ApiError::bad_param(
            "Idempotency-Key",
            "must be 1 to 128 visible ASCII characters",
        ));
    }
    Ok(Some(k.to_string()))
}
