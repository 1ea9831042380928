//! Bindings of the client core (`crates/client`): one `_native.Client` per `TradingClient`.
//! Every network call releases the GIL; errors become the `stocksblitz.exceptions` classes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyModule, PyTuple};
use serde_json::Value;
use stocksblitz_client::{Client, ClientError, Config, Kind};

/// JSON → Python objects (dicts, lists, str, int, float, bool, None).
pub(crate) fn to_py(py: Python<'_>, v: &Value) -> PyResult<Py<PyAny>> {
    Ok(match v {
        Value::Null => py.None(),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any().unbind(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.into_pyobject(py)?.into_any().unbind(),
            None => n
                .as_f64()
                .unwrap_or(f64::NAN)
                .into_pyobject(py)?
                .into_any()
                .unbind(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any().unbind(),
        Value::Array(a) => {
            let items = a
                .iter()
                .map(|x| to_py(py, x))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any().unbind()
        }
        Value::Object(o) => {
            let d = PyDict::new(py);
            for (k, x) in o {
                d.set_item(k, to_py(py, x)?)?;
            }
            d.into_any().unbind()
        }
    })
}

fn exception_class<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let m = MODULE.get_or_try_init(py, || {
        py.import("stocksblitz.exceptions").map(Bound::unbind)
    })?;
    m.bind(py).getattr(name)
}

/// A `ClientError` as the SDK's exception (APIError and its subclasses, TimeoutError).
fn py_error(py: Python<'_>, e: ClientError) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let body = |b: &Option<Value>| -> PyResult<Py<PyAny>> {
            match b {
                Some(v) => to_py(py, v),
                None => Ok(py.None()),
            }
        };
        let msg = e.to_string();
        let exc = match &e {
            ClientError::Authentication {
                status, body: b, ..
            } => exception_class(py, "AuthenticationError")?.call1((msg, *status, body(b)?))?,
            ClientError::PermissionDenied { body: b, .. } => {
                exception_class(py, "PermissionDeniedError")?.call1((msg, 403, body(b)?))?
            }
            ClientError::RateLimited {
                retry_after,
                body: b,
                ..
            } => {
                exception_class(py, "RateLimitError")?.call1((msg, 429, body(b)?, *retry_after))?
            }
            ClientError::Api {
                status,
                body: b,
                code,
                ..
            } => {
                let name = match (*status, code.as_deref()) {
                    (404, Some("contract_expired")) => "InstrumentNotFoundError",
                    (_, Some("insufficient_funds")) => "InsufficientFundsError",
                    (_, Some("order_invalid" | "order_rejected" | "order_not_found")) => {
                        "InvalidOrderError"
                    }
                    _ => "APIError",
                };
                let cls = exception_class(py, name)?;
                if name == "InvalidOrderError" {
                    cls.call1((msg, *status, body(b)?, code.as_deref()))?
                } else if name == "APIError" || name == "InsufficientFundsError" {
                    cls.call1((msg, *status, body(b)?))?
                } else {
                    let exc = cls.call1((msg,))?;
                    exc.setattr("status_code", *status)?;
                    exc.setattr("response", body(b)?)?;
                    exc
                }
            }
            ClientError::Timeout(_) => exception_class(py, "TimeoutError")?.call1((msg,))?,
            ClientError::Connect { .. } | ClientError::Decode(_) => {
                exception_class(py, "APIError")?.call1((msg, py.None(), py.None()))?
            }
            ClientError::Usage(_) => return Ok(PyValueError::new_err(msg)),
        };
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|err| err)
}

fn kind_of(kind: Option<&str>) -> PyResult<Option<Kind>> {
    Ok(match kind {
        None => None,
        Some("quote") => Some(Kind::Quote),
        Some("bars") => Some(Kind::Bars),
        Some("static") => Some(Kind::Static),
        Some(other) => {
            return Err(PyValueError::new_err(format!(
                "cache kind must be quote, bars or static, got {other:?}"
            )));
        }
    })
}

/// Query parameters from a dict (values: str, int, float, bool; None skipped).
fn query_of(params: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(String, String)>> {
    let Some(p) = params else {
        return Ok(Vec::new());
    };
    if p.is_none() {
        return Ok(Vec::new());
    }
    let d = p
        .cast::<PyDict>()
        .map_err(|_| PyTypeError::new_err("params must be a dict"))?;
    let mut out = Vec::with_capacity(d.len());
    for (k, v) in d.iter() {
        if v.is_none() {
            continue;
        }
        let key: String = k.extract()?;
        let val: String = if let Ok(b) = v.extract::<bool>() {
            if b { "true".into() } else { "false".into() }
        } else if let Ok(s) = v.extract::<String>() {
            s
        } else {
            v.str()?.extract()?
        };
        out.push((key, val));
    }
    Ok(out)
}

/// Converted answers kept for their cache lifetime, so a warm read costs a lookup (no JSON to
/// Python conversion): key = path + query.
type PyCache = Mutex<HashMap<String, (Instant, Py<PyAny>)>>;

/// The connection of one TradingClient.
#[pyclass(name = "Client", module = "stocksblitz._native", frozen)]
pub struct PyClient {
    inner: Arc<Client>,
    converted: PyCache,
}

fn cache_key(path: &str, query: &[(String, String)]) -> String {
    let mut key = String::with_capacity(path.len() + 32);
    key.push_str(path);
    for (k, v) in query {
        key.push('\u{1f}');
        key.push_str(k);
        key.push('=');
        key.push_str(v);
    }
    key
}

#[pymethods]
impl PyClient {
    #[new]
    #[pyo3(signature = (api_url, api_key = None, user_service_url = None, timeout = 30.0, max_retries = 2))]
    fn new(
        api_url: &str,
        api_key: Option<String>,
        user_service_url: Option<String>,
        timeout: f64,
        max_retries: u32,
    ) -> PyResult<Self> {
        if !(timeout.is_finite() && timeout > 0.0) {
            return Err(PyValueError::new_err(format!(
                "timeout must be a positive number of seconds, got {timeout}"
            )));
        }
        let cfg = Config {
            api_url: api_url.to_string(),
            api_key,
            user_service_url,
            timeout: Duration::from_secs_f64(timeout),
            max_retries: max_retries.min(5),
        };
        let inner = Client::new(cfg).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(PyClient {
            inner: Arc::new(inner),
            converted: Mutex::new(HashMap::new()),
        })
    }

    /// GET `path` with query `params`; `kind` (quote, bars, static) caches the answer.
    #[pyo3(signature = (path, params = None, kind = None))]
    fn get(
        &self,
        py: Python<'_>,
        path: &str,
        params: Option<&Bound<'_, PyAny>>,
        kind: Option<&str>,
    ) -> PyResult<Py<PyAny>> {
        let query = query_of(params)?;
        let kind = kind_of(kind)?;
        let key = kind.map(|_| cache_key(path, &query));
        if let Some(k) = &key
            && let Ok(map) = self.converted.lock()
            && let Some((until, obj)) = map.get(k)
            && *until > Instant::now()
        {
            return Ok(obj.clone_ref(py));
        }
        let client = self.inner.clone();
        let owned_path = path.to_string();
        let result = py.detach(move || {
            let q: Vec<(&str, String)> =
                query.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            client.get(&owned_path, &q, kind)
        });
        let obj = match result {
            Ok(v) => to_py(py, &v)?,
            Err(e) => return Err(py_error(py, e)),
        };
        if let (Some(k), Some(kind)) = (key, kind)
            && let Ok(mut map) = self.converted.lock()
        {
            let now = Instant::now();
            if map.len() >= stocksblitz_client::cache::MAX_ENTRIES {
                map.retain(|_, (until, _)| *until > now);
                if map.len() >= stocksblitz_client::cache::MAX_ENTRIES {
                    map.clear();
                }
            }
            map.insert(k, (now + kind.ttl(), obj.clone_ref(py)));
        }
        Ok(obj)
    }

    /// POST a JSON text body to `path`.
    fn post(&self, py: Python<'_>, path: &str, body_json: &str) -> PyResult<Py<PyAny>> {
        let body: Value = serde_json::from_str(body_json)
            .map_err(|e| PyValueError::new_err(format!("body is not JSON: {e}")))?;
        let client = self.inner.clone();
        let path = path.to_string();
        match py.detach(move || client.post(&path, &body)) {
            Ok(v) => to_py(py, &v),
            Err(e) => Err(py_error(py, e)),
        }
    }

    /// Any method with an optional JSON text body and `Idempotency-Key` (retried safely).
    #[pyo3(signature = (method, path, body_json = None, idempotency_key = None))]
    fn request(
        &self,
        py: Python<'_>,
        method: &str,
        path: &str,
        body_json: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> PyResult<Py<PyAny>> {
        let body: Option<Value> = body_json
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| PyValueError::new_err(format!("body is not JSON: {e}")))?;
        let client = self.inner.clone();
        let (method, path) = (method.to_string(), path.to_string());
        let key = idempotency_key.map(str::to_string);
        match py.detach(move || client.request(&method, &path, body.as_ref(), key.as_deref())) {
            Ok(v) => to_py(py, &v),
            Err(e) => Err(py_error(py, e)),
        }
    }

    #[pyo3(signature = (username, password, persist_session = true))]
    fn login(
        &self,
        py: Python<'_>,
        username: &str,
        password: &str,
        persist_session: bool,
    ) -> PyResult<Py<PyAny>> {
        let client = self.inner.clone();
        let (u, p) = (username.to_string(), password.to_string());
        match py.detach(move || client.login(&u, &p, persist_session)) {
            Ok(v) => to_py(py, &v),
            Err(e) => Err(py_error(py, e)),
        }
    }

    fn logout(&self, py: Python<'_>) -> PyResult<()> {
        let client = self.inner.clone();
        let result = py.detach(move || client.logout());
        if let Ok(mut map) = self.converted.lock() {
            map.clear();
        }
        result.map_err(|e| py_error(py, e))
    }

    /// `get` as an awaitable: the request runs on the client's runtime (the event loop never
    /// blocks, no thread per call); cancelling the awaitable cancels the request.
    #[pyo3(signature = (path, params = None, kind = None))]
    fn get_async<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        params: Option<&Bound<'_, PyAny>>,
        kind: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let query = query_of(params)?;
        let kind = kind_of(kind)?;
        let client = self.inner.clone();
        let path = path.to_string();
        let task = self.inner.spawn(async move {
            let q: Vec<(&str, String)> =
                query.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            client.get_async(&path, &q, kind).await
        });
        awaitable(py, task, |py, v| to_py(py, &v))
    }

    /// `request` as an awaitable (see `get_async`).
    #[pyo3(signature = (method, path, body_json = None, idempotency_key = None))]
    fn request_async<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        path: &str,
        body_json: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let body: Option<Value> = body_json
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| PyValueError::new_err(format!("body is not JSON: {e}")))?;
        let client = self.inner.clone();
        let (method, path) = (method.to_string(), path.to_string());
        let key = idempotency_key.map(str::to_string);
        let task = self.inner.spawn(async move {
            client
                .request_async(&method, &path, body.as_ref(), key.as_deref())
                .await
        });
        awaitable(py, task, |py, v| to_py(py, &v))
    }

    /// `login` as an awaitable.
    #[pyo3(signature = (username, password, persist_session = true))]
    fn login_async<'py>(
        &self,
        py: Python<'py>,
        username: &str,
        password: &str,
        persist_session: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let client = self.inner.clone();
        let (u, p) = (username.to_string(), password.to_string());
        let task = self
            .inner
            .spawn(async move { client.login_async(&u, &p, persist_session).await });
        awaitable(py, task, |py, v| to_py(py, &v))
    }

    /// `logout` as an awaitable.
    fn logout_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        if let Ok(mut map) = self.converted.lock() {
            map.clear();
        }
        let client = self.inner.clone();
        let task = self.inner.spawn(async move { client.logout_async().await });
        awaitable(py, task, |py, ()| Ok(py.None()))
    }

    /// A live stream on this client (nothing connects until it subscribes).
    fn stream(&self) -> PyStream {
        PyStream {
            inner: Arc::new(stocksblitz_client::stream::Stream::new(self.inner.clone())),
        }
    }

    fn clear_cache(&self) {
        self.inner.cache.clear();
        if let Ok(mut map) = self.converted.lock() {
            map.clear();
        }
    }

    /// The access token in use (the session's JWT, else the API key).
    #[getter]
    fn access_token(&self) -> Option<String> {
        self.inner.access_token()
    }

    #[setter]
    fn set_access_token(&self, token: &str) -> PyResult<()> {
        self.inner
            .set_access_token(token)
            .map_err(|e| PyValueError::new_err(e.to_string()))
    }

    #[getter]
    fn has_session(&self) -> bool {
        self.inner.has_session()
    }

    /// Counters: requests, logins, refreshes, retries, cache_hits, cache_entries.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        use std::sync::atomic::Ordering::Relaxed;
        let s = &self.inner.stats;
        let d = PyDict::new(py);
        d.set_item("requests", s.requests.load(Relaxed))?;
        d.set_item("logins", s.logins.load(Relaxed))?;
        d.set_item("refreshes", s.refreshes.load(Relaxed))?;
        d.set_item("retries", s.retries.load(Relaxed))?;
        d.set_item("cache_hits", s.cache_hits.load(Relaxed))?;
        d.set_item("cache_entries", self.inner.cache.len())?;
        d.set_item(
            "converted_entries",
            self.converted.lock().map_or(0, |m| m.len()),
        )?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!("<_native.Client {}>", self.inner.config().api_url)
    }
}

/// Aborts the task when dropped: an awaitable the caller cancels stops its request.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> std::future::Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx)
    }
}

/// A Python awaitable of a task on the client's runtime, its result converted with `convert`.
fn awaitable<T, F>(
    py: Python<'_>,
    task: tokio::task::JoinHandle<Result<T, ClientError>>,
    convert: F,
) -> PyResult<Bound<'_, PyAny>>
where
    T: Send + 'static,
    F: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    crate::aio::awaitable(py, AbortOnDrop(task), move |py, joined| match joined {
        Ok(Ok(v)) => convert(py, v),
        Ok(Err(e)) => Err(py_error(py, e)),
        Err(e) => Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
            "the request task ended: {e}"
        ))),
    })
}

/// Subscriptions from Python lists: quotes (symbols), indicators ((symbol, timeframe, id)),
/// bars ((symbol, timeframe)).
#[allow(clippy::too_many_arguments)] // one flag per stream
fn subscription(
    quotes: Option<Vec<String>>,
    indicators: Option<Vec<(String, String, String)>>,
    bars: Option<Vec<(String, String)>>,
    orders: bool,
    alerts: bool,
    messages: bool,
    news: bool,
) -> PyResult<stocksblitz_client::stream::Subscription> {
    let canon = |tf: String| -> PyResult<String> {
        stocksblitz_market::Timeframe::parse(&tf)
            .map(|t| t.as_str().to_string())
            .map_err(|e| PyValueError::new_err(e.to_string()))
    };
    Ok(stocksblitz_client::stream::Subscription {
        quotes: quotes.unwrap_or_default(),
        indicators: indicators
            .unwrap_or_default()
            .into_iter()
            .map(|(s, tf, id)| Ok((s, canon(tf)?, id)))
            .collect::<PyResult<_>>()?,
        bars: bars
            .unwrap_or_default()
            .into_iter()
            .map(|(s, tf)| Ok((s, canon(tf)?)))
            .collect::<PyResult<_>>()?,
        orders,
        alerts,
        messages,
        news,
    })
}

/// A live stream of updates (dicts with a `type`: quote, bar, indicator, order, trade).
#[pyclass(name = "Stream", module = "stocksblitz._native", frozen)]
pub struct PyStream {
    inner: Arc<stocksblitz_client::stream::Stream>,
}

#[pymethods]
impl PyStream {
    /// Add subscriptions; returns when the server accepted the bar and indicator ones.
    #[allow(clippy::too_many_arguments)] // Python keyword arguments
    #[pyo3(signature = (quotes = None, indicators = None, bars = None, orders = false, alerts = false, messages = false, news = false))]
    fn subscribe(
        &self,
        py: Python<'_>,
        quotes: Option<Vec<String>>,
        indicators: Option<Vec<(String, String, String)>>,
        bars: Option<Vec<(String, String)>>,
        orders: bool,
        alerts: bool,
        messages: bool,
        news: bool,
    ) -> PyResult<()> {
        let sub = subscription(quotes, indicators, bars, orders, alerts, messages, news)?;
        let s = self.inner.clone();
        py.detach(move || s.subscribe(sub))
            .map_err(|e| py_error(py, e))
    }

    /// `subscribe` as an awaitable.
    #[allow(clippy::too_many_arguments)] // Python keyword arguments
    #[pyo3(signature = (quotes = None, indicators = None, bars = None, orders = false, alerts = false, messages = false, news = false))]
    fn subscribe_async<'py>(
        &self,
        py: Python<'py>,
        quotes: Option<Vec<String>>,
        indicators: Option<Vec<(String, String, String)>>,
        bars: Option<Vec<(String, String)>>,
        orders: bool,
        alerts: bool,
        messages: bool,
        news: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let sub = subscription(quotes, indicators, bars, orders, alerts, messages, news)?;
        let s = self.inner.clone();
        crate::aio::awaitable(py, async move { s.subscribe_async(sub).await }, |py, r| {
            r.map(|()| py.None()).map_err(|e| py_error(py, e))
        })
    }

    /// The next update, waiting at most `timeout` seconds (None: no limit); None on timeout.
    /// Raises StopIteration once the stream is closed.
    #[pyo3(signature = (timeout = None))]
    fn next(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Py<PyAny>>> {
        use stocksblitz_client::stream::Next;
        let t = timeout
            .map(|t| {
                if t.is_finite() && t >= 0.0 {
                    Ok(Duration::from_secs_f64(t))
                } else {
                    Err(PyValueError::new_err(
                        "timeout must be a non-negative number",
                    ))
                }
            })
            .transpose()?;
        let s = self.inner.clone();
        // Wait in short slices so Ctrl+C reaches the script.
        let deadline = t.map(|t| Instant::now() + t);
        loop {
            let slice = match deadline {
                Some(d) => d
                    .saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(200)),
                None => Duration::from_millis(200),
            };
            let s2 = s.clone();
            match py.detach(move || s2.next_blocking(Some(slice))) {
                Next::Update(v) => return Ok(Some(to_py(py, &v)?)),
                Next::Closed(why) => {
                    return Err(pyo3::exceptions::PyStopIteration::new_err(
                        why.unwrap_or_else(|| "the stream is closed".into()),
                    ));
                }
                Next::Timeout => {
                    py.check_signals()?;
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// The next update as an awaitable (None once the stream is closed).
    fn next_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = self.inner.clone();
        crate::aio::awaitable(py, async move { s.next_async().await }, |py, v| match v {
            Some(v) => to_py(py, &v),
            None => Ok(py.None()),
        })
    }

    fn close(&self) {
        self.inner.close();
    }

    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Updates waiting for the consumer.
    #[getter]
    fn pending(&self) -> usize {
        self.inner.pending()
    }

    /// Counters: connects, reconnects, dead, gap_fills, gap_filled_updates, quotes_coalesced,
    /// delivered.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        use std::sync::atomic::Ordering::Relaxed;
        let s = self.inner.stats();
        let d = PyDict::new(py);
        d.set_item("connects", s.connects.load(Relaxed))?;
        d.set_item("reconnects", s.reconnects.load(Relaxed))?;
        d.set_item("dead", s.dead.load(Relaxed))?;
        d.set_item("gap_fills", s.gap_fills.load(Relaxed))?;
        d.set_item("gap_filled_updates", s.gap_filled_updates.load(Relaxed))?;
        d.set_item("quotes_coalesced", s.quotes_coalesced.load(Relaxed))?;
        d.set_item("delivered", s.delivered.load(Relaxed))?;
        Ok(d)
    }
}

/// The canonical timeframe (`5m`) of any accepted spelling; ValueError listing them otherwise.
#[pyfunction]
pub(crate) fn timeframe_canonical(tf: &Bound<'_, PyAny>) -> PyResult<&'static str> {
    let s: String = if let Ok(i) = tf.extract::<i64>() {
        i.to_string()
    } else {
        tf.extract::<String>()
            .map_err(|_| PyTypeError::new_err("a timeframe is a str such as '5m'"))?
    };
    stocksblitz_market::Timeframe::parse(&s)
        .map(stocksblitz_market::Timeframe::as_str)
        .map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Every canonical timeframe, shortest first.
#[pyfunction]
pub(crate) fn timeframes(py: Python<'_>) -> PyResult<Bound<'_, PyTuple>> {
    PyTuple::new(
        py,
        stocksblitz_market::Timeframe::ALL
            .iter()
            .map(|t| t.as_str()),
    )
}
