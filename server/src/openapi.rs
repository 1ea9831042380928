//! `/openapi.json`: the document is collected from the handlers' `#[utoipa::path]` annotations
//! by the same router that serves them (utoipa-axum), so a route cannot exist undocumented or be
//! documented at a path it is not served on. The error responses every route shares are added
//! here once: 400/404/422/503 everywhere, 401/403/429 where a credential is required.

use utoipa::OpenApi as _;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItem};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, ResponseBuilder};

use crate::error::ErrorBody;
use crate::routes::kite::KiteErrorBody;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "stocksblitz",
        description = "Market data and analytics for Indian derivatives. Errors are `{detail, code}`; \
            protected routes take `Authorization: Bearer <API key or JWT>`."
    ),
    components(schemas(ErrorBody, KiteErrorBody)),
    tags(
        (name = "service", description = "health, metrics, this document"),
        (name = "indicators", description = "indicator values over the bar series"),
        (name = "market", description = "quotes, candles, instruments, option chains"),
        (name = "udf", description = "TradingView UDF"),
        (name = "streams", description = "WebSockets"),
        (name = "identity", description = "accounts, tokens, API keys"),
        (name = "trading", description = "paper accounts, orders, positions, funds"),
        (name = "kite", description = "Kite Connect v3 compatible (root = this server, with or without /kite): \
            Kite's envelopes and error types, `Authorization: token <any>:<API key or JWT>`")
    )
)]
pub(crate) struct ApiDoc;

/// The base document the router adds its paths to.
pub(crate) fn base() -> OpenApi {
    ApiDoc::openapi()
}

fn error_response(description: &str, schema: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(schema)))
                .build(),
        )
        .build()
}

/// Add this document's own route, the shared error responses and the bearer scheme.
pub(crate) fn finish(mut doc: OpenApi) -> OpenApi {
    let own = OperationBuilder::new()
        .tag("service")
        .summary(Some("this OpenAPI document"))
        .response(
            "200",
            ResponseBuilder::new()
                .description("OpenAPI 3.1")
                .content("application/json", ContentBuilder::new().build())
                .build(),
        )
        .build();
    doc.paths
        .paths
        .insert("/openapi.json".into(), PathItem::new(HttpMethod::Get, own));
    let common = [
        ("400", "a bad parameter (named in `detail`)"),
        ("404", "unknown thing, or an expired contract"),
        ("503", "a dependency (store, snapshot) is unavailable"),
    ];
    let protected = [
        ("401", "missing or invalid credential"),
        ("403", "the credential lacks the scope"),
        ("429", "rate limited (see Retry-After)"),
    ];
    // Kite's routes answer Kite's errors: a credential or scope problem is a 403, a body that
    // does not parse a 400 InputException.
    let kite_common = [
        (
            "400",
            "InputException or OrderException (the rule in `message`)",
        ),
        ("404", "unknown order or route"),
        ("503", "NetworkException: a dependency is unavailable"),
    ];
    let kite_protected = [
        (
            "403",
            "TokenException (credential) or PermissionException (scope)",
        ),
        ("429", "NetworkException: rate limited"),
    ];
    for (path, item) in &mut doc.paths.paths {
        let kite = crate::routes::kite::is_kite_path(path);
        let ops = [
            item.get.as_mut(),
            item.post.as_mut(),
            item.delete.as_mut(),
            item.put.as_mut(),
            item.patch.as_mut(),
        ];
        for op in ops.into_iter().flatten() {
            let is_protected = op.security.as_ref().is_some_and(|s| !s.is_empty());
            let has_body = op.request_body.is_some();
            let responses = &mut op.responses.responses;
            if kite {
                let mut add = |code: &str, what: &str| {
                    responses
                        .entry(code.to_string())
                        .or_insert_with(|| error_response(what, "KiteErrorBody").into());
                };
                for (code, what) in kite_common {
                    add(code, what);
                }
                if has_body {
                    add("413", "the body is too large");
                }
                if is_protected {
                    for (code, what) in kite_protected {
                        add(code, what);
                    }
                }
                continue;
            }
            let mut add = |code: &str, what: &str| {
                responses
                    .entry(code.to_string())
                    .or_insert_with(|| error_response(what, "ErrorBody").into());
            };
            for (code, what) in common {
                add(code, what);
            }
            if has_body {
                add("413", "the body is too large");
                add("422", "the body is not valid JSON of the documented shape");
            }
            if is_protected {
                for (code, what) in protected {
                    add(code, what);
                }
            }
        }
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("an API key (sb_…) or an access JWT"))
                .build(),
        ),
    );
    doc
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// Bounds the attributes spell as literals are the constants the handlers enforce: a
    /// document that allowed more would promise requests the server refuses.
    #[test]
    #[allow(clippy::cast_precision_loss)]
    fn documented_bounds_are_the_enforced_ones() {
        let doc = serde_json::to_value(crate::openapi_doc()).unwrap_or_default();
        let schema = |name: &str| doc["components"]["schemas"][name].clone();
        let batch = schema("BatchRequest");
        assert_eq!(
            batch["properties"]["queries"]["maxItems"].as_u64(),
            Some(crate::routes::indicators::MAX_BATCH_QUERIES as u64)
        );
        assert_eq!(
            schema("BatchQuery")["properties"]["lookback"]["maximum"].as_f64(),
            Some(crate::routes::indicators::MAX_LOOKBACK as f64)
        );
        let alert = schema("NewAlertBody");
        assert_eq!(
            alert["properties"]["cooldown_secs"]["maximum"].as_f64(),
            Some(crate::routes::alerts::MAX_COOLDOWN_SECS as f64)
        );
        assert_eq!(
            alert["properties"]["webhook_url"]["maxLength"].as_u64(),
            Some(crate::routes::alerts::MAX_URL_CHARS as u64)
        );
        let place = &doc["paths"]["/accounts/{account_id}/orders"]["post"]["parameters"];
        let key = place
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == "Idempotency-Key")
            .map(|p| p["schema"]["pattern"].clone());
        assert_eq!(
            key,
            Some(Value::from(format!(
                "^[!-~]{{1,{}}}$",
                stocksblitz_broker::MAX_IDEMPOTENCY_KEY_LEN
            )))
        );
        // Every registry entry is one alternative of an indicator in a body (plus the id form).
        let specs = &schema("SubscribeRequest")["properties"]["indicators"]["items"]["oneOf"];
        assert_eq!(
            specs.as_array().map(Vec::len),
            Some(stocksblitz_indicators::REGISTRY.len() + 1)
        );
    }
}
