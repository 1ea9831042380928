//! The indicator routes (the old backend's paths and shapes, fixed): values computed by the
//! indicators crate over the bar series (store + recent + forming bar) with enough warm-up
//! for exact values; current values cached per (instrument, timeframe, canonical id) until the
//! instrument's bars change; subscriptions stored per client.

mod registry;
mod subscriptions;
mod values;

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use stocksblitz_engine::Point;
use stocksblitz_indicators::{Category, Description, IndicatorId, REGISTRY, describe};
use stocksblitz_market::Timeframe;

use super::{ApiJson, bounded, instrument, list_size, timeframe};
use crate::error::{ApiError, ApiQuery};
use crate::identity::extract::Auth;
use crate::state::AppState;
use crate::wire::indicators::{IndicatorSpec, MAX_INDICATORS, Requested, parse_id, render};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest `lookback` of `/indicators/history` and `/batch`.
pub(crate) const MAX_LOOKBACK: usize = 5000;
/// Largest `offset` of `/indicators/at-offset`.
pub(crate) const MAX_OFFSET: usize = 5000;
/// Most queries in one `/indicators/batch`.
pub(crate) const MAX_BATCH_QUERIES: usize = 100;

/// A comma-separated id list (`RSI_14,SMA_20`).
fn parse_ids(param: &str, raw: Option<&str>) -> Result<Vec<Requested>, ApiError> {
    let raw = raw.ok_or_else(|| ApiError::bad_param(param, "is required"))?;
    let ids: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    list_size(param, ids.len(), MAX_INDICATORS, "indicators")?;
    ids.into_iter()
        .map(|s| {
            Ok(Requested {
                sent: s.to_string(),
                id: parse_id(param, s)?,
            })
        })
        .collect()
}

/// The parsed ids of a request.
fn ids_of(ids: &[Requested]) -> Vec<IndicatorId> {
    ids.iter().map(|r| r.id.clone()).collect()
}

/// Each id (as sent) with its values rendered (null where there is no bar).
fn rendered(ids: &[Requested], values: &[Option<Vec<f64>>]) -> Vec<(String, Value)> {
    ids.iter()
        .zip(values)
        .map(|(r, v)| {
            let v = v.as_ref().map_or(Value::Null, |v| render(&r.id, v));
            (r.sent.clone(), v)
        })
        .collect()
}

fn iso_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Ids mapped to values, in request order (ids echoed as sent).
#[derive(Debug, Default)]
pub(crate) struct Ordered(Vec<(String, Value)>);

impl Serialize for Ordered {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// This area's routes (merged by [`crate::routes::router`]).
pub(crate) fn router() -> OpenApiRouter<std::sync::Arc<crate::state::AppState>> {
    OpenApiRouter::new()
        .routes(routes!(values::current))
        .routes(routes!(values::at_offset))
        .routes(routes!(values::history))
        .routes(routes!(values::batch))
        .routes(routes!(subscriptions::subscribe))
        .routes(routes!(subscriptions::unsubscribe))
        .routes(routes!(registry::list))
        .routes(routes!(registry::definition_route))
}
