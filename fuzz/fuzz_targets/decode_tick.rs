//! The tick decoder never panics; accepted ticks have a finite non-negative price and feed the
//! bar builder and snapshot without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use stocksblitz_market::bars::BarBuilder;
use stocksblitz_market::decode::Decoder;
use stocksblitz_market::session::Session;
use stocksblitz_market::snapshot::Snapshot;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = Decoder.decode(data, 1_762_246_981_000) {
        assert!(t.price.is_finite() && t.price >= 0.0);
        let mut b = BarBuilder::new(Session::always_open(), 2000);
        let mut out = Vec::new();
        b.on_tick(&t, &mut out);
        b.flush_all(&mut out);
        let mut s = Snapshot::default();
        s.apply(&t);
    }
});
