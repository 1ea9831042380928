//! Indicator ids as requests name them and values as responses show them (the indicator
//! routes and `/indicators/stream`).

use serde::Deserialize;
use serde_json::{Map, Value};
use stocksblitz_indicators::IndicatorId;

use crate::error::ApiError;

/// Most indicator ids in one request.
pub(crate) const MAX_INDICATORS: usize = 20;

/// An id as the client wrote it, parsed.
pub(crate) struct Requested {
    pub(crate) sent: String,
    pub(crate) id: IndicatorId,
}

pub(crate) fn parse_id(param: &str, raw: &str) -> Result<IndicatorId, ApiError> {
    IndicatorId::parse(raw).map_err(|e| ApiError::bad_param(param, e))
}

/// One value for the response: a number (null when undefined) or an object of named outputs.
pub(crate) fn render(id: &IndicatorId, values: &[f64]) -> Value {
    let def = id.def();
    if !def.is_multi_output() {
        return values.first().copied().map_or(Value::Null, Value::from);
    }
    let mut obj = Map::new();
    for (name, v) in def.outputs.iter().zip(values) {
        obj.insert((*name).to_string(), Value::from(*v));
    }
    Value::Object(obj)
}

/// An indicator in a subscribe request: `"RSI_14"` or `{"name": "RSI", "params": {"length": 14}}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(crate) enum IndicatorSpec {
    Id(String),
    Named {
        name: String,
        #[serde(default)]
        #[schema(value_type = Object)]
        params: Map<String, Value>,
    },
}

impl IndicatorSpec {
    pub(crate) fn parse(&self, i: usize) -> Result<Requested, ApiError> {
        let param = format!("indicators[{i}]");
        match self {
            IndicatorSpec::Id(s) => Ok(Requested {
                sent: s.trim().to_string(),
                id: parse_id(&param, s)?,
            }),
            IndicatorSpec::Named { name, params } => {
                let mut named = Vec::with_capacity(params.len());
                for (k, v) in params {
                    let Some(x) = v.as_f64() else {
                        return Err(ApiError::bad_param(
                            &format!("{param}.params.{k}"),
                            format!("must be a number, got {v}"),
                        ));
                    };
                    named.push((k.as_str(), x));
                }
                let id = IndicatorId::with_named(name, named)
                    .map_err(|e| ApiError::bad_param(&param, e))?;
                Ok(Requested {
                    sent: id.canonical(),
                    id,
                })
            }
        }
    }
}
