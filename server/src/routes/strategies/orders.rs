//! A strategy's orders and positions, and placing orders tagged with it.

use super::*;

/// `GET /strategies/{strategy_id}/orders`: the orders carrying its tag, oldest first.
#[utoipa::path(get, path = "/strategies/{strategy_id}/orders", tag = "trading", params(("strategy_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = StrategyOrdersEnvelope)))]
pub(super) async fn orders(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<StrategyOrdersEnvelope>, ApiError> {
    let s = owned(&state, &auth, &id).await?;
    let tag = tag_of(s.strategy_id);
    let v = state
        .trading
        .view(&s.owner, s.account_id, state.clock.now(), |e, acc| {
            e.account(acc)
                .map(|a| {
                    a.orders
                        .iter()
                        .filter_map(|o| e.order(*o))
                        .filter(|o| o.tag.as_deref() == Some(tag.as_str()))
                        .map(order_out)
                        .collect()
                })
                .unwrap_or_default()
        })
        .await
        .map_err(trading_error)?;
    Ok(StrategyOrdersEnvelope::ok(v))
}

/// `GET /strategies/{strategy_id}/positions`: its own positions (from its fills alone).
#[utoipa::path(get, path = "/strategies/{strategy_id}/positions", tag = "trading", params(("strategy_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = StrategyPositionsEnvelope)))]
pub(super) async fn positions(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<StrategyPositionsEnvelope>, ApiError> {
    let s = owned(&state, &auth, &id).await?;
    let tag = tag_of(s.strategy_id);
    let v = state
        .trading
        .evaluate(&s.owner, s.account_id, state.clock.now(), &[], |e, acc| {
            let b = book(e, acc, &tag);
            b.positions.iter().map(|p| position_out(e, p)).collect()
        })
        .await
        .map_err(trading_error)?;
    Ok(StrategyPositionsEnvelope::ok(v))
}

/// `POST /strategies/{strategy_id}/orders`: place an order tagged with the strategy on its
/// account (only while it is active). `Idempotency-Key` as for account orders.
#[utoipa::path(post, path = "/strategies/{strategy_id}/orders", tag = "trading", params(("strategy_id" = inline(crate::wire::schema::RowId), Path), ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,128}$", description = "1–128 visible ASCII characters; retries with the same key return the first answer")), request_body = PlaceBody, security(("bearer" = [])), responses((status = 200, body = StrategyPlacedEnvelope), (status = 409, body = crate::error::ErrorBody)))]
pub(super) async fn place_order(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<PlaceBody>,
) -> Result<Json<StrategyPlacedEnvelope>, ApiError> {
    auth.require(Scope::Trade)?;
    let s = owned(&state, &auth, &id).await?;
    if s.status != "active" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "strategy_not_active",
            format!("the strategy is {}; start or resume it to trade", s.status),
        ));
    }
    let key = idempotency_key(&headers)?;
    let tag = tag_of(s.strategy_id);
    let req = order_request(
        AccountId(s.account_id as u64),
        &OrderFields {
            tag: Some(&tag),
            ..b.fields()
        },
    )?;
    let ids = place(&state, &auth, s.account_id, req, key.as_deref()).await?;
    Ok(StrategyPlacedEnvelope::ok(PlacedOut {
        order_id: ids.first().cloned().unwrap_or_default(),
        order_ids: ids,
    }))
}
