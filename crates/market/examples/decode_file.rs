//! Decode + aggregate a file of legacy payloads (one JSON per line) in one thread; prints a JSON
//! line with the rate. Used by bench/bench_decode.py, which times a Python implementation on
//! the same file in the same run.
//!
//!     cargo run --release -p stocksblitz-market --example decode_file -- payloads.jsonl
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use stocksblitz_market::bars::BarBuilder;
use stocksblitz_market::decode::Decoder;
use stocksblitz_market::session::Session;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: decode_file <payloads.jsonl>");
    let text = std::fs::read(&path).expect("read payload file");
    let lines: Vec<&[u8]> = text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let mut best = f64::INFINITY;
    let (mut bars_out, mut rejected) = (0usize, 0usize);
    for _ in 0..3 {
        let t = Instant::now();
        let mut builder = BarBuilder::new(Session::always_open(), 2000);
        let mut out = Vec::new();
        rejected = 0;
        for l in &lines {
            match Decoder.decode(l, 0) {
                Ok(tick) => builder.on_tick(&tick, &mut out),
                Err(_) => rejected += 1,
            }
        }
        builder.flush_all(&mut out);
        bars_out = out.len();
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{{\"ticks\": {}, \"seconds\": {best:.6}, \"per_second\": {:.0}, \"bars\": {bars_out}, \"rejected\": {rejected}}}",
        lines.len(),
        lines.len() as f64 / best
    );
}
