//! Indicator ids never panic the parser, and valid ids compute over a small frame.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stocksblitz_indicators::{Frame, IndicatorId, compute};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data)
        && let Ok(id) = IndicatorId::parse(s)
        && id.params().iter().all(|p| *p <= 64.0)
    {
        let x: Vec<f64> = (0..50).map(|i| 100.0 + (i % 7) as f64).collect();
        let f = Frame {
            open: Some(&x),
            high: Some(&x),
            low: Some(&x),
            close: Some(&x),
            volume: Some(&x),
            time: None,
        };
        let _ = compute(&id, &f);
    }
});
