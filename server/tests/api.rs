//! The HTTP API over a real SQLite store in a temp dir, fed through the real pipeline: stored
//! minute bars and live legacy-ticker payloads. Response bodies are snapshot files
//! (`tests/snapshots/`, reviewed with `cargo insta review`); values a snapshot holds are also
//! checked against numbers worked out here from the bars.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use stocksblitz_market::{Bar, Timeframe};
use stocksblitz_server::{app, state::AppState};
use stocksblitz_store::Store;
use tower::ServiceExt as _;

/// 2025-11-03 09:15 IST, a session open.
const OPEN: i64 = 1_762_141_500;
const MINUTES: i64 = 150;

fn close_at(i: i64) -> f64 {
    // Ups and downs, a drift, two decimals.
    let wobble = ((i * 37) % 23) as f64 - 11.0;
    ((25_000.0 + wobble + i as f64 * 0.75) * 100.0).round() / 100.0
}

fn minute(i: i64) -> Bar {
    let c = close_at(i);
    let start = OPEN + i * 60;
    Bar {
        instrument: "NIFTY 50".into(),
        timeframe: Timeframe::M1,
        start,
        open: c - 1.5,
        high: c + 2.25,
        low: c - 3.0,
        close: c,
        volume: 0,
        oi: None,
        open_oi: None,
        first_ts_ms: start * 1000,
        last_ts_ms: start * 1000 + 59_000,
    }
}

struct Api {
    _dir: tempfile::TempDir,
    state: Arc<AppState>,
    token: String,
}

impl Api {
    async fn new() -> Api {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite_dir(dir.path()).await.unwrap();
        let bars: Vec<Bar> = (0..MINUTES).map(minute).collect();
        store.upsert_bars(&bars).await.unwrap();
        let state = Arc::new(AppState::new(store).await.unwrap());
        let mut api = Api {
            _dir: dir,
            state,
            token: String::new(),
        };
        let creds = json!({"email": "trader@example.com", "password": "correct horse battery"});
        let (s, _) = api.post("/v1/auth/register", &creds).await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, login) = api.post("/v1/auth/login", &creds).await;
        assert_eq!(s, StatusCode::OK, "{login}");
        api.token = login["access_token"].as_str().unwrap().to_string();
        api
    }

    async fn call(&self, req: Request<Body>) -> (StatusCode, Value) {
        let resp = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 4 << 20)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn get(&self, uri: &str) -> (StatusCode, Value) {
        let req = Request::get(uri)
            .header("authorization", format!("Bearer {}", self.token))
            .body(Body::empty())
            .unwrap();
        self.call(req).await
    }

    async fn text(&self, uri: &str) -> String {
        let req = Request::get(uri).body(Body::empty()).unwrap();
        let resp = app(self.state.clone()).oneshot(req).await.unwrap();
        let bytes = axum::body::to_bytes(resp.into_body(), 4 << 20)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    async fn post(&self, uri: &str, body: &Value) -> (StatusCode, Value) {
        let req = Request::post(uri)
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", self.token))
            .body(Body::from(body.to_string()))
            .unwrap();
        self.call(req).await
    }
}

/// Five-minute closes rolled up from the stored minutes: the last minute of each bucket.
fn five_minute_closes() -> Vec<(i64, f64)> {
    (0..MINUTES)
        .filter(|i| i % 5 == 4)
        .map(|i| (OPEN + (i - 4) * 60, close_at(i)))
        .collect()
}

#[tokio::test]
async fn candles_roll_stored_minutes_up() {
    let api = Api::new().await;
    let (s, body) = api
        .get("/candles?symbol=NIFTY%2050&timeframe=5m&limit=3")
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let want = five_minute_closes();
    let got: Vec<(i64, f64)> = body["candles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["time"].as_i64().unwrap(), c["close"].as_f64().unwrap()))
        .collect();
    assert_eq!(got, want[want.len() - 3..]);
    insta::assert_json_snapshot!("candles_5m", body);

    // A window in the past, by time.
    let to = OPEN + 3_600;
    let (s, body) = api
        .get(&format!(
            "/candles?symbol=NIFTY%2050&timeframe=15m&from={OPEN}&to={to}"
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    let times: Vec<i64> = body["candles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["time"].as_i64().unwrap())
        .collect();
    assert_eq!(
        times,
        vec![OPEN, OPEN + 900, OPEN + 1800, OPEN + 2700, OPEN + 3600]
    );
}

#[tokio::test]
async fn indicator_values_match_the_bars() {
    let api = Api::new().await;
    let (s, body) = api
        .get("/indicators/history?symbol=NIFTY%2050&timeframe=5m&indicator=SMA_3&lookback=4")
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let closes = five_minute_closes();
    let series = body["series"].as_array().unwrap();
    assert_eq!(series.len(), 4);
    for (k, point) in series.iter().enumerate() {
        let end = closes.len() - 4 + k;
        let want = closes[end - 2..=end].iter().map(|c| c.1).sum::<f64>() / 3.0;
        assert_eq!(point["time"].as_i64().unwrap(), closes[end].0);
        assert!((point["value"].as_f64().unwrap() - want).abs() < 1e-9);
        assert_eq!(point["candles_back"], json!(3 - k));
    }
    insta::assert_json_snapshot!("history_sma3_5m", body);

    let (s, body) = api
        .get("/indicators/current?symbol=NIFTY%2050&timeframe=5m&indicators=SMA_3,BBANDS_20_2,RSI_14")
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        body["indicators"]["SMA_3"],
        series.last().unwrap()["value"],
        "current equals the newest history point"
    );
    insta::assert_json_snapshot!("current_5m", body, { ".timestamp" => "[now]" });

    // The same request again is a cache hit, counted in this server's /metrics — its own
    // recorder: another server of this process (every test here runs one) counts apart.
    let counter = |text: &str, name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} is exported"))
    };
    let hits = "stocksblitz_indicator_cache_hits_total";
    let before = counter(&api.text("/metrics").await, hits);
    api.get("/indicators/current?symbol=NIFTY%2050&timeframe=5m&indicators=SMA_3")
        .await;
    assert_eq!(counter(&api.text("/metrics").await, hits), before + 1);
    let other = Api::new().await;
    let fresh = other.text("/metrics").await;
    assert_eq!(counter(&fresh, hits), 0, "a second server starts from zero");
    assert_eq!(
        counter(&fresh, "stocksblitz_indicator_computations_total"),
        0
    );

    let (s, body) = api
        .get("/indicators/at-offset?symbol=NIFTY%2050&timeframe=5m&indicators=SMA_3&offset=2")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["indicators"]["SMA_3"], series[1]["value"]);
    assert_eq!(body["candle_time"], series[1]["time"]);
}

#[tokio::test]
async fn live_legacy_ticks_become_quotes() {
    let api = Api::new().await;
    let now = stocksblitz_server::now_ms();
    let payload = format!(
        r#"{{"symbol": "NIFTY 50", "token": 256265, "tradingsymbol": "NIFTY 50", "segment": "INDICES", "exchange": "NSE", "strike": 0.0, "expiry": null, "type": "EQ", "price": 25123.45, "volume": 0, "oi": 0, "ts": {}, "is_mock": false}}"#,
        now / 1000
    );
    api.state.pipeline.ingest(payload.as_bytes(), now);
    let (s, body) = api.get("/quote?symbol=NIFTY%2050").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["ltp"], json!(25123.45));
    insta::assert_json_snapshot!("quote_index", body, {
        ".ts" => "[ts]", ".age_ms" => "[age]", ".state" => "[depends on the session]"
    });
    let (s, body) = api.get("/quote?symbol=BANKNIFTY").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["state"], "no_data");
}

#[tokio::test]
async fn errors_are_json_with_a_code_and_name_what_is_wrong() {
    let api = Api::new().await;
    let cases = [
        ("bad_timeframe", "/candles?symbol=NIFTY%2050&timeframe=7m"),
        ("missing_symbol", "/candles?timeframe=5m"),
        (
            "unknown_indicator",
            "/indicators/current?symbol=NIFTY%2050&timeframe=5m&indicators=RSX_14",
        ),
        (
            "bad_offset",
            "/indicators/at-offset?symbol=NIFTY%2050&timeframe=5m&indicators=RSI_14&offset=-1",
        ),
        (
            "malformed_option",
            "/candles?symbol=NIFTY25NOV25000XE&timeframe=5m",
        ),
        (
            "expired_contract",
            "/candles?symbol=NIFTY24JANFUT&timeframe=5m",
        ),
        (
            "backwards_window",
            "/candles?symbol=NIFTY%2050&timeframe=5m&from=200&to=100",
        ),
        // Found by the schema fuzzer: the bar arithmetic overflowed (a panic, the connection
        // dropped) for an epoch near i64's end.
        (
            "far_future_window",
            "/candles?symbol=NIFTY%2050&timeframe=1m&from=0&to=9223372036854775806",
        ),
        (
            "far_future_udf",
            "/history?symbol=NIFTY%2050&resolution=1&to=9223372036854775806&countback=1",
        ),
    ];
    for (name, uri) in cases {
        let (s, body) = api.get(uri).await;
        assert!(s.is_client_error(), "{name}: {s} {body}");
        assert!(
            body["code"].is_string() && body["detail"].is_string(),
            "{name}: {body}"
        );
        insta::assert_json_snapshot!(name, json!({"status": s.as_u16(), "body": body}));
    }
}

#[tokio::test]
async fn without_valid_credentials_nothing_is_served() {
    let api = Api::new().await;
    let anonymous = Request::get("/candles?symbol=NIFTY%2050&timeframe=5m")
        .body(Body::empty())
        .unwrap();
    let (s, body) = api.call(anonymous).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    insta::assert_json_snapshot!("no_credentials", body);
    for bad in [
        "Bearer not-a-token",
        "Bearer sb_live_0000000000000000",
        "Basic dXNlcjpwYXNz",
    ] {
        let req = Request::get("/candles?symbol=NIFTY%2050&timeframe=5m")
            .header("authorization", bad)
            .body(Body::empty())
            .unwrap();
        let (s, body) = api.call(req).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{bad}: {body}");
        assert!(
            !body["detail"].as_str().unwrap().contains("sb_live"),
            "{body}"
        );
    }
    // Lowercase scheme and X-API-Key are accepted spellings of the same credential.
    let req = Request::get("/candles?symbol=NIFTY%2050&timeframe=5m&limit=1")
        .header("authorization", format!("bearer {}", api.token))
        .body(Body::empty())
        .unwrap();
    assert_eq!(api.call(req).await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_registry_is_described_once() {
    let api = Api::new().await;
    let (s, body) = api.get("/indicators/definition/rsi_14").await;
    assert_eq!(s, StatusCode::OK);
    insta::assert_json_snapshot!("definition_rsi", body);
    let (s, list) = api.get("/indicators/list?category=volatility").await;
    assert_eq!(s, StatusCode::OK);
    let names: Vec<&str> = list["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"ATR") && names.contains(&"BBANDS"),
        "{names:?}"
    );
    assert_eq!(list["total"], json!(names.len()));
}
