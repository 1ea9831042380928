//! An account's orders: list, read, place, modify, cancel (the broker decides; handlers adapt).

use super::*;

/// `GET /accounts/{account_id}/orders`: every order, oldest first.
#[utoipa::path(get, path = "/accounts/{account_id}/orders", tag = "trading", params(("account_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = OrdersEnvelope)))]
pub(super) async fn orders(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(account_id): Path<String>,
) -> Result<Json<OrdersEnvelope>, ApiError> {
    let v = read(&state, &auth, &account_id, |e, id| {
        e.account(id)
            .map(|a| {
                a.orders
                    .iter()
                    .filter_map(|o| e.order(*o))
                    .map(order_out)
                    .collect()
            })
            .unwrap_or_default()
    })
    .await?;
    Ok(OrdersEnvelope::ok(v))
}

/// `GET /accounts/{account_id}/orders/{order_id}`.
#[utoipa::path(get, path = "/accounts/{account_id}/orders/{order_id}", tag = "trading", params(("account_id" = inline(crate::wire::schema::RowId), Path), ("order_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = OrderEnvelope)))]
pub(super) async fn get_order(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path((account_id, order_id)): Path<(String, String)>,
) -> Result<Json<OrderEnvelope>, ApiError> {
    let oid = OrderId(id_param("order_id", &order_id)?);
    let o = read(&state, &auth, &account_id, |e, id| {
        e.order(oid).filter(|o| o.account == id).map(order_out)
    })
    .await?;
    o.map(OrderEnvelope::ok)
        .ok_or_else(|| ApiError::not_found("order_not_found", format!("no order {oid}")))
}

/// `POST /accounts/{account_id}/orders`: place an order (a refused one is recorded as REJECTED
/// and answered with the rule and its numbers). An `Idempotency-Key` header makes retries safe:
/// every retry within 24 h gets the first answer and nothing is placed twice.
#[utoipa::path(post, path = "/accounts/{account_id}/orders", tag = "trading", params(("account_id" = inline(crate::wire::schema::RowId), Path), ("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,128}$", description = "1–128 visible ASCII characters; retries with the same key return the first answer")), request_body = PlaceBody, security(("bearer" = [])), responses((status = 200, body = PlacedEnvelope)))]
pub(super) async fn place_order(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(account_id): Path<String>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<PlaceBody>,
) -> Result<Json<PlacedEnvelope>, ApiError> {
    auth.require(Scope::Trade)?;
    let id = id_param("account_id", &account_id)?;
    let key = idempotency_key(&headers)?;
    let req = order_request(AccountId(id), &b.fields())?;
    let ids = place(&state, &auth, id as i64, req, key.as_deref()).await?;
    Ok(PlacedEnvelope::ok(PlacedOut {
        order_id: ids.first().cloned().unwrap_or_default(),
        order_ids: ids,
    }))
}

/// `PUT /accounts/{account_id}/orders/{order_id}`: modify an open order.
#[utoipa::path(put, path = "/accounts/{account_id}/orders/{order_id}", tag = "trading", params(("account_id" = inline(crate::wire::schema::RowId), Path), ("order_id" = inline(crate::wire::schema::RowId), Path)), request_body = ModifyBody, security(("bearer" = [])), responses((status = 200, body = PlacedEnvelope)))]
pub(super) async fn modify_order(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path((account_id, order_id)): Path<(String, String)>,
    ApiJson(b): ApiJson<ModifyBody>,
) -> Result<Json<PlacedEnvelope>, ApiError> {
    let oid = OrderId(id_param("order_id", &order_id)?);
    command(&state, &auth, &account_id, |account| {
        let changes = OrderChanges {
            quantity: b.quantity,
            price: money_param("price", b.price)?,
            trigger_price: money_param("trigger_price", b.trigger_price)?,
            order_type: b
                .order_type
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| ApiError::bad_param("order_type", e))?,
            validity: b
                .validity
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| ApiError::bad_param("validity", e))?,
            validity_ttl: b.validity_ttl,
        };
        Ok(Command::Modify {
            account,
            order_id: oid,
            changes,
        })
    })
    .await?;
    Ok(PlacedEnvelope::ok(PlacedOut {
        order_id: oid.to_string(),
        order_ids: vec![oid.to_string()],
    }))
}

/// `DELETE /accounts/{account_id}/orders/{order_id}`: cancel an open order.
#[utoipa::path(delete, path = "/accounts/{account_id}/orders/{order_id}", tag = "trading", params(("account_id" = inline(crate::wire::schema::RowId), Path), ("order_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = PlacedEnvelope)))]
pub(super) async fn cancel_order(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path((account_id, order_id)): Path<(String, String)>,
) -> Result<Json<PlacedEnvelope>, ApiError> {
    let oid = OrderId(id_param("order_id", &order_id)?);
    command(&state, &auth, &account_id, |account| {
        Ok(Command::Cancel {
            account,
            order_id: oid,
        })
    })
    .await?;
    Ok(PlacedEnvelope::ok(PlacedOut {
        order_id: oid.to_string(),
        order_ids: vec![oid.to_string()],
    }))
}
