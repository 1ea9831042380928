//! `/indicators/subscribe` and `/unsubscribe`: stored per client, idempotent, exact counts.

use super::*;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct SubscribeRequest {
    #[schema(value_type = crate::wire::schema::Symbol, inline)]
    pub symbol: Option<String>,
    #[schema(value_type = crate::wire::schema::TimeframeName, inline)]
    pub timeframe: Option<String>,
    #[serde(default)]
    #[schema(value_type = crate::wire::schema::IndicatorSpecs, inline, required = true)]
    pub indicators: Vec<IndicatorSpec>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SubscriptionOut {
    pub indicator_id: String,
    pub symbol: String,
    pub timeframe: &'static str,
    pub subscriber_count: i64,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct SubscribeResponse {
    pub status: &'static str,
    pub client_id: String,
    pub subscriptions: Vec<SubscriptionOut>,
}

/// `POST /indicators/subscribe`: all-or-nothing validation, idempotent per client, exact counts.
#[utoipa::path(post, path = "/indicators/subscribe", tag = "indicators", request_body = SubscribeRequest, security(("bearer" = [])), responses((status = 200, body = SubscribeResponse)))]
pub(super) async fn subscribe(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<SubscribeRequest>,
) -> Result<Json<SubscribeResponse>, ApiError> {
    auth.require_read()?;
    let sym = instrument(&state, "symbol", req.symbol.as_deref())?;
    let tf = timeframe(req.timeframe.as_deref())?;
    list_size(
        "indicators",
        req.indicators.len(),
        MAX_INDICATORS,
        "indicators",
    )?;
    let ids = req
        .indicators
        .iter()
        .enumerate()
        .map(|(i, s)| s.parse(i))
        .collect::<Result<Vec<_>, _>>()?;
    let client = auth.client_id();
    let stored = state
        .engine
        .subscribe_stored(&client, &sym.tradingsymbol, tf, &ids_of(&ids))
        .await?;
    let subs = ids
        .iter()
        .zip(stored)
        .map(|(r, st)| SubscriptionOut {
            indicator_id: r.sent.clone(),
            symbol: sym.tradingsymbol.to_string(),
            timeframe: tf.as_str(),
            subscriber_count: st.subscriber_count,
            status: "subscribed",
            value: Some(st.value.as_ref().map_or(Value::Null, |v| render(&r.id, v))),
        })
        .collect();
    Ok(Json(SubscribeResponse {
        status: "success",
        client_id: client,
        subscriptions: subs,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct UnsubscribeRequest {
    #[schema(value_type = crate::wire::schema::Symbol, inline)]
    pub symbol: Option<String>,
    #[schema(value_type = crate::wire::schema::TimeframeName, inline)]
    pub timeframe: Option<String>,
    #[serde(default)]
    #[schema(value_type = crate::wire::schema::IndicatorIds, inline, required = true)]
    pub indicator_ids: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct UnsubscribeResponse {
    pub status: &'static str,
    pub client_id: String,
    pub unsubscribed: Vec<SubscriptionOut>,
}

/// `POST /indicators/unsubscribe`: only the caller's own subscriptions change.
#[utoipa::path(post, path = "/indicators/unsubscribe", tag = "indicators", request_body = UnsubscribeRequest, security(("bearer" = [])), responses((status = 200, body = UnsubscribeResponse)))]
pub(super) async fn unsubscribe(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<UnsubscribeRequest>,
) -> Result<Json<UnsubscribeResponse>, ApiError> {
    auth.require_read()?;
    let sym = instrument(&state, "symbol", req.symbol.as_deref())?;
    let tf = timeframe(req.timeframe.as_deref())?;
    list_size(
        "indicator_ids",
        req.indicator_ids.len(),
        MAX_INDICATORS,
        "indicators",
    )?;
    let ids = req
        .indicator_ids
        .iter()
        .enumerate()
        .map(|(i, s)| parse_id(&format!("indicator_ids[{i}]"), s))
        .collect::<Result<Vec<_>, _>>()?;
    let client = auth.client_id();
    let stored = state
        .engine
        .unsubscribe_stored(&client, &sym.tradingsymbol, tf, &ids)
        .await?;
    let out = req
        .indicator_ids
        .iter()
        .zip(stored)
        .map(|(sent, st)| SubscriptionOut {
            indicator_id: sent.trim().to_string(),
            symbol: sym.tradingsymbol.to_string(),
            timeframe: tf.as_str(),
            subscriber_count: st.subscriber_count,
            status: if st.changed {
                "unsubscribed"
            } else {
                "not_subscribed"
            },
            value: None,
        })
        .collect();
    Ok(Json(UnsubscribeResponse {
        status: "success",
        client_id: client,
        unsubscribed: out,
    }))
}
