//! Kite's request bodies: form-encoded fields (what pykiteconnect sends), JSON accepted too, and
//! JSON lists of orders; bounded in count and size.

use super::*;

/// Most parameters one body may carry.
const MAX_FIELDS: usize = 64;

/// Longest parameter value.
const MAX_VALUE_LEN: usize = 256;

/// A Kite request body as flat parameters: `application/x-www-form-urlencoded` (what
/// pykiteconnect sends) or a JSON object of scalars.
#[derive(Debug, Default)]
pub(crate) struct KiteForm(pub HashMap<String, String>);

impl KiteForm {
    pub(crate) fn get(&self, k: &str) -> Option<&str> {
        self.0
            .get(k)
            .map(String::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn required(&self, k: &str) -> Result<&str, KiteError> {
        self.get(k)
            .ok_or_else(|| KiteError::input(format!("Missing or empty field `{k}`")))
    }

    pub(crate) fn int(&self, k: &str) -> Result<Option<i64>, KiteError> {
        self.get(k)
            .map(|v| {
                v.parse::<i64>()
                    .or_else(|_| {
                        v.parse::<f64>()
                            .ok()
                            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                            .map(|f| f as i64)
                            .ok_or(())
                    })
                    .map_err(|()| {
                        KiteError::input(format!("Invalid `{k}`: {v:?} is not a whole number"))
                    })
            })
            .transpose()
    }

    pub(crate) fn number(&self, k: &str) -> Result<Option<f64>, KiteError> {
        self.get(k)
            .map(|v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .ok_or_else(|| {
                        KiteError::input(format!("Invalid `{k}`: {v:?} is not a number"))
                    })
            })
            .transpose()
    }

    pub(crate) fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true" | "1" | "True" | "TRUE"))
    }
}

fn scalar_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl FromRequest<Arc<AppState>> for KiteForm {
    type Rejection = KiteError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.contains("json"));
        let raw = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| KiteError::input(e.body_text()))?;
        let mut out = HashMap::new();
        if json {
            if raw.is_empty() {
                return Ok(KiteForm(out));
            }
            let v: serde_json::Value = serde_json::from_slice(&raw)
                .map_err(|e| KiteError::input(format!("invalid JSON body: {e}")))?;
            let serde_json::Value::Object(m) = v else {
                return Err(KiteError::input("the JSON body must be an object"));
            };
            for (k, v) in m {
                if let Some(s) = scalar_text(&v) {
                    out.insert(k, s);
                }
            }
        } else {
            for (k, v) in form_urlencoded::parse(&raw) {
                out.insert(k.into_owned(), v.into_owned());
            }
        }
        if out.len() > MAX_FIELDS {
            return Err(KiteError::input(format!("at most {MAX_FIELDS} fields")));
        }
        if let Some((k, _)) = out.iter().find(|(_, v)| v.len() > MAX_VALUE_LEN) {
            return Err(KiteError::input(format!(
                "`{k}` is longer than {MAX_VALUE_LEN} characters"
            )));
        }
        Ok(KiteForm(out))
    }
}

/// A JSON list body (margins, charges), at most `max` items.
pub(crate) fn json_list<T: serde::de::DeserializeOwned>(
    raw: &[u8],
    max: usize,
) -> Result<Vec<T>, KiteError> {
    let v: Vec<T> = serde_json::from_slice(raw)
        .map_err(|e| KiteError::input(format!("invalid JSON body: {e}")))?;
    if v.is_empty() {
        return Err(KiteError::input("the list of orders is empty"));
    }
    if v.len() > max {
        return Err(KiteError::input(format!(
            "at most {max} orders, got {}",
            v.len()
        )));
    }
    Ok(v)
}
