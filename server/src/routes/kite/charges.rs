//! Kite's `POST /charges/orders`: the contract note of executed orders (charges by the dated
//! rate table).

use std::sync::Arc;

use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::{KiteAuth, KiteError, KiteResult, json_list, ok};
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::margins::*;

super::kite_envelope!(KiteContractNoteEnvelope, Vec<ContractNoteRow>);

/// One order of Kite's virtual contract note.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ContractNoteRow {
    pub transaction_type: String,
    pub tradingsymbol: String,
    pub exchange: String,
    pub variety: String,
    pub product: String,
    pub order_type: String,
    pub quantity: i64,
    pub price: f64,
    pub charges: ChargesOut,
}

/// `POST /kite/charges/orders`: the charges of executed orders (Kite's virtual contract
/// note), with the rates in force today.
#[utoipa::path(post, path = "/kite/charges/orders", tag = "kite", request_body = Vec<ChargeOrder>, security(("bearer" = [])), responses((status = 200, body = KiteContractNoteEnvelope), (status = 400, body = super::KiteErrorBody)))]
pub(crate) async fn contract_note(
    auth: KiteAuth,
    State(state): State<Arc<AppState>>,
    raw: axum::body::Bytes,
) -> KiteResult<Vec<ContractNoteRow>> {
    let orders: Vec<ChargeOrder> = json_list(&raw, MAX_ORDERS)?;
    let as_margin: Vec<MarginOrder> = orders
        .iter()
        .map(|o| MarginOrder {
            exchange: o.exchange.clone(),
            tradingsymbol: o.tradingsymbol.clone(),
            transaction_type: o.transaction_type.clone(),
            variety: o.variety.clone(),
            product: o.product.clone(),
            order_type: "LIMIT".into(),
            quantity: o.quantity,
            price: Some(o.average_price),
            trigger_price: None,
        })
        .collect();
    let date = crate::routes::ist_today(state.clock.now());
    let rows = evaluate(&state, &auth, &[], |e, _| {
        orders
            .iter()
            .zip(&as_margin)
            .map(|(o, m)| {
                let v = value_order(e, m, date)?;
                Ok(ContractNoteRow {
                    transaction_type: o.transaction_type.clone(),
                    tradingsymbol: v.sym,
                    exchange: v.exchange,
                    variety: o.variety.clone().unwrap_or_else(|| "regular".into()),
                    product: o.product.clone(),
                    order_type: o.order_type.clone().unwrap_or_else(|| "MARKET".into()),
                    quantity: o.quantity,
                    price: o.average_price,
                    charges: charges_out(&v.charges),
                })
            })
            .collect::<Result<Vec<_>, KiteError>>()
    })
    .await?;
    Ok(ok(rows))
}

/// An executed order whose charges are asked for (Kite's `charges/orders` items).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct ChargeOrder {
    /// Kite's; the contract note does not need it.
    #[expect(dead_code, reason = "accepted as Kite sends it")]
    pub order_id: Option<String>,
    pub exchange: Option<String>,
    pub tradingsymbol: String,
    pub transaction_type: String,
    pub variety: Option<String>,
    pub product: String,
    pub order_type: Option<String>,
    pub quantity: i64,
    pub average_price: f64,
}

/// This area's routes (merged by [`super::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new().routes(routes!(contract_note))
}
