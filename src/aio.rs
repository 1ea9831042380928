//! Rust futures as asyncio awaitables, safe at interpreter exit.
//!
//! `pyo3_async_runtimes::future_into_py` hands each result to the event loop from a worker
//! thread with `loop.call_soon_threadsafe`, which releases the GIL while it wakes the loop. A
//! script whose last `await` returns in that window goes on to exit, and the worker, taking the
//! GIL back while the interpreter finalizes, is ended by CPython mid-call: "PyGILState_Release:
//! thread state must be current" and an abort (seen in about 1 run in 10 under load). Here
//! every completion is counted, and an `atexit` hook (which runs before finalization starts)
//! stops new completions and waits, with the GIL released, for those under way.
//!
//! The futures run on pyo3-async-runtimes' tokio runtime; cancelling the awaitable aborts the
//! task (and so drops the Rust future).

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::types::PyTuple;

static EXITING: AtomicBool = AtomicBool::new(false);
static COMPLETING: AtomicUsize = AtomicUsize::new(0);

/// Longest the exit hook waits for completions under way.
const EXIT_WAIT: Duration = Duration::from_secs(2);

/// An asyncio future of the running loop that `fut`'s output completes, converted with
/// `convert` under the GIL. Must be called with an event loop running on this thread.
pub(crate) fn awaitable<T, F, C>(py: Python<'_>, fut: F, convert: C) -> PyResult<Bound<'_, PyAny>>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
    C: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    let event_loop = py
        .import(pyo3::intern!(py, "asyncio"))?
        .call_method0(pyo3::intern!(py, "get_running_loop"))?;
    let py_fut = event_loop.call_method0(pyo3::intern!(py, "create_future"))?;
    let (lp, pf) = (event_loop.unbind(), py_fut.clone().unbind());
    let task = pyo3_async_runtimes::tokio::get_runtime().spawn(async move {
        let out = fut.await;
        // The GIL is not taken on a runtime worker: a blocked worker would stall other tasks.
        let _ = tokio::task::spawn_blocking(move || complete(lp, pf, out, convert)).await;
    });
    py_fut.call_method1(
        pyo3::intern!(py, "add_done_callback"),
        (AbortOnCancel(task.abort_handle()),),
    )?;
    Ok(py_fut)
}

fn complete<T, C>(event_loop: Py<PyAny>, py_fut: Py<PyAny>, out: T, convert: C)
where
    C: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>>,
{
    // Announce first, then look at the flag (the exit hook does the reverse): either the hook
    // waits for this completion or this completion sees the hook and stays away.
    COMPLETING.fetch_add(1, Ordering::SeqCst);
    if !EXITING.load(Ordering::SeqCst) {
        Python::attach(|py| {
            let (ok, value) = match convert(py, out) {
                Ok(v) => (true, v),
                Err(e) => (false, e.into_value(py).into_any()),
            };
            // Set on the loop's own thread, where a cancel in between is seen. A closed loop
            // (nobody awaits any more) refuses: nothing to deliver then.
            let _ = event_loop.bind(py).call_method1(
                pyo3::intern!(py, "call_soon_threadsafe"),
                (SetIfPending, py_fut.bind(py), ok, value),
            );
            drop((event_loop, py_fut));
        });
    }
    COMPLETING.fetch_sub(1, Ordering::SeqCst);
}

/// `future.add_done_callback` hook: a cancelled awaitable aborts its task.
#[pyclass(frozen)]
struct AbortOnCancel(tokio::task::AbortHandle);

#[pymethods]
impl AbortOnCancel {
    fn __call__(&self, fut: &Bound<'_, PyAny>) -> PyResult<()> {
        if fut.call_method0("cancelled")?.is_truthy()? {
            self.0.abort();
        }
        Ok(())
    }
}

/// Runs on the event loop: set the result (or exception) unless the future is already done.
#[pyclass(frozen)]
struct SetIfPending;

#[pymethods]
impl SetIfPending {
    fn __call__(&self, fut: &Bound<'_, PyAny>, ok: bool, value: Bound<'_, PyAny>) -> PyResult<()> {
        if fut.call_method0("done")?.is_truthy()? {
            return Ok(());
        }
        let method = if ok { "set_result" } else { "set_exception" };
        fut.call_method1(method, PyTuple::new(fut.py(), [value])?)?;
        Ok(())
    }
}

/// The `atexit` hook: no completions from now on; wait (GIL released) for those under way.
#[pyfunction]
#[pyo3(name = "_exit_hook")]
fn exit_hook(py: Python<'_>) {
    EXITING.store(true, Ordering::SeqCst);
    py.detach(|| {
        let deadline = Instant::now() + EXIT_WAIT;
        while COMPLETING.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// Register [`exit_hook`] with `atexit` (at module import).
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let hook = wrap_pyfunction!(exit_hook, m)?;
    py.import("atexit")?.call_method1("register", (hook,))?;
    Ok(())
}
