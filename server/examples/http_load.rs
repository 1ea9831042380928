//! A minimal HTTP/1.1 keep-alive load generator for loopback benchmarks (no wrk on this
//! machine): `http_load <host:port> <path> <connections> <seconds> [authorization-header-value]`.
//! Prints `requests rps p50_us p99_us non2xx` on one line.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

fn content_length(head: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(head).ok()?;
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())
            .flatten()
    })
}

async fn worker(addr: String, request: Vec<u8>, until: Instant) -> anyhow::Result<(Vec<u32>, u64)> {
    let mut s = TcpStream::connect(&addr).await?;
    s.set_nodelay(true)?;
    let mut lat = Vec::with_capacity(1 << 16);
    let mut bad = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    while Instant::now() < until {
        let t0 = Instant::now();
        s.write_all(&request).await?;
        let mut have = 0;
        loop {
            let n = s.read(&mut buf[have..]).await?;
            anyhow::ensure!(n > 0, "server closed the connection");
            have += n;
            if let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                let body = content_length(&buf[..end]).unwrap_or(0);
                if have >= end + 4 + body {
                    if &buf[9..10] != b"2" {
                        bad += 1;
                    }
                    break;
                }
            }
            anyhow::ensure!(have < buf.len(), "response too large");
        }
        lat.push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
    }
    Ok((lat, bad))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        args.len() >= 5,
        "usage: http_load <host:port> <path> <connections> <seconds> [authorization]"
    );
    let (addr, path) = (args[1].clone(), &args[2]);
    let conns: usize = args[3].parse()?;
    let secs: f64 = args[4].parse()?;
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n");
    if let Some(a) = args.get(5) {
        req.push_str(&format!("Authorization: {a}\r\n"));
    }
    req.push_str("\r\n");
    let until = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        tasks.push(tokio::spawn(worker(
            addr.clone(),
            req.clone().into_bytes(),
            until,
        )));
    }
    let (mut all, mut bad) = (Vec::new(), 0);
    for t in tasks {
        let (l, b) = t.await??;
        all.extend(l);
        bad += b;
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0)
    };
    println!(
        "{} {:.0} {} {} {bad}",
        all.len(),
        all.len() as f64 / elapsed,
        pct(0.5),
        pct(0.99)
    );
    Ok(())
}
