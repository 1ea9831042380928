//! The simulator's history: what the store lacks of the last sessions (first start, a restart, a
//! clock jump), planned and written in chunks with progress in `/health`.

use super::*;

/// 09:15 IST of the `sessions`-th trading day before the day of `now` (UTC epoch ms); `now`
/// itself for 0.
pub(super) fn sessions_back(now: i64, sessions: usize) -> i64 {
    if sessions == 0 {
        return now;
    }
    let cal = Calendar::embedded();
    let Some(mut d) = ist_date(now.div_euclid(1000)) else {
        return now;
    };
    let mut found = 0;
    for _ in 0..(sessions * 3 + 30) {
        let Some(prev) = d.pred_opt() else { break };
        d = prev;
        if cal.is_trading_day(d) {
            found += 1;
            if found == sessions {
                break;
            }
        }
    }
    session_window_ms(d).map_or(now, |(open, _)| open.min(now))
}

/// Where the stored history of the simulated indices ends (the end of the newest stored
/// minute), if there is any: the demo clock resumes there.
pub async fn stored_history_end(store: &Store) -> anyhow::Result<Option<i64>> {
    let mut end: Option<i64> = None;
    for (_, display) in indices() {
        if let Some(b) = store
            .last_bars(display, Timeframe::M1, 1, None)
            .await?
            .pop()
        {
            let e = (b.start + 60) * 1000;
            end = Some(end.map_or(e, |x| x.max(e)));
        }
    }
    Ok(end)
}

/// What to generate at start: holes to bridge, and where the live walk resumes.
#[derive(Debug)]
pub(super) struct Plan {
    pub(super) holes: Vec<(Resume, i64, HashMap<String, f64>)>,
    pub(super) tail: Resume,
}

impl Plan {
    /// Nothing to fill: a fresh walk from now.
    pub(super) fn fresh(now: i64) -> Plan {
        Plan {
            holes: Vec::new(),
            tail: Resume {
                at_ms: now,
                ..Resume::default()
            },
        }
    }
}

/// Read the stored history of the window before `now` and plan the fills (see the module
/// documentation).
pub(super) async fn plan(store: &Store, now: i64, backfill_days: usize) -> anyhow::Result<Plan> {
    let idx = indices();
    let mut last_end: Option<i64> = None;
    for (_, display) in &idx {
        if let Some(b) = store
            .last_bars(display, Timeframe::M1, 1, Some(now.div_euclid(1000)))
            .await?
            .pop()
        {
            let end = (b.start + 60) * 1000;
            last_end = Some(last_end.map_or(end, |e: i64| e.max(end)));
        }
    }
    let anchor = sessions_back(now, backfill_days);
    let cap = sessions_back(now, backfill_days.max(MAX_CATCH_UP_SESSIONS));
    let window_start = match last_end {
        Some(e) => anchor.min(e.max(cap)),
        None => anchor,
    }
    .min(now);
    // The stored minutes of each index in the window.
    let mut stored: HashMap<&str, HashMap<i64, Bar>> = HashMap::new();
    for (name, display) in &idx {
        let bars = store
            .bars_range(
                display,
                Timeframe::M1,
                window_start.div_euclid(1000),
                now.div_euclid(1000) + 60,
                100_000,
            )
            .await?;
        stored.insert(name, bars.into_iter().map(|b| (b.start, b)).collect());
    }
    let reference = idx.first().map_or("NIFTY", |(n, _)| n);
    let have = |m: i64| stored.get(reference).is_some_and(|s| s.contains_key(&m));
    // Complete session minutes of the window, and the runs of them missing.
    let mut runs: Vec<(i64, i64)> = Vec::new();
    let mut t = window_start;
    let mut open_run: Option<i64> = None;
    let mut last_minute_end = window_start;
    while let Some(s) = next_session_instant(t) {
        let m = s.div_euclid(60_000) * 60_000;
        if m + 60_000 > now {
            break;
        }
        let start = m.div_euclid(1000);
        if have(start) {
            if let Some(a) = open_run.take() {
                runs.push((a, m));
            }
        } else if open_run.is_none() {
            open_run = Some(m);
        }
        last_minute_end = m + 60_000;
        t = m + 60_000;
    }
    // The tail starts at the first missing minute after the last stored one (or where the
    // stored history ends, when nothing is missing).
    let tail_at = match open_run {
        Some(a) => a,
        None => last_minute_end.max(last_end.unwrap_or(window_start).min(now)),
    };
    let mut holes = Vec::new();
    for (a, b) in runs {
        let end: HashMap<String, f64> = idx
            .iter()
            .filter_map(|(name, _)| {
                let bar = stored.get(name)?.get(&b.div_euclid(1000))?;
                Some(((*name).to_string(), bar.open))
            })
            .collect();
        let mut spots = before(store, a, &idx).await?;
        for (k, v) in &end {
            // A hole at the start of the window: walk out from the price after it and back.
            spots.entry(k.clone()).or_insert(*v);
        }
        holes.push((
            Resume {
                at_ms: a,
                spots,
                ..Resume::default()
            },
            b,
            end,
        ));
    }
    // Where the live walk resumes: the stored prices before the tail, the day's range so
    // far, the open interest of the last stored minute, the day's volume.
    let spots = before(store, tail_at, &idx).await?;
    let mut tail = Resume {
        at_ms: tail_at,
        spots,
        ..Resume::default()
    };
    if let Some(day) = ist_date((tail_at - 1).div_euclid(1000))
        && let Some((open, _)) = session_window_ms(day)
        && tail_at > open
    {
        let open_s = open.div_euclid(1000);
        for (name, bars) in &stored {
            let today: Vec<&Bar> = bars
                .values()
                .filter(|b| b.start >= open_s && b.start * 1000 < tail_at)
                .collect();
            if let Some(first) = today.iter().min_by_key(|b| b.start) {
                let hi = today.iter().map(|b| b.high).fold(f64::MIN, f64::max);
                let lo = today.iter().map(|b| b.low).fold(f64::MAX, f64::min);
                tail.day_ohl
                    .insert((*name).to_string(), [first.open, hi, lo]);
            }
        }
        tail.volume = store.volume_since(open_s).await?.into_iter().collect();
        let last_minute = tail_at.div_euclid(1000) - 60;
        tail.oi = store
            .bars_at(Timeframe::M1, last_minute)
            .await?
            .into_iter()
            .filter_map(|b| b.oi.map(|oi| (b.instrument.to_string(), oi)))
            .collect();
    }
    Ok(Plan { holes, tail })
}

/// Walk the simulator up to `now` and hand the result over: the minute in progress starts the
/// pipeline's forming bars, the complete minutes go to the writer.
pub(super) fn catch_up(
    sim: &mut Simulator,
    now: i64,
    pipeline: &Pipeline,
    writer: &mpsc::UnboundedSender<Arc<Fill>>,
) {
    let fill = sim.fill_to(now);
    if !fill.forming.is_empty() {
        pipeline.seed_forming(fill.forming.clone(), now);
    }
    if fill.minutes() > 0 {
        announce(&fill, "the stretch up to now");
        pipeline
            .stats
            .backfill
            .minutes_total
            .fetch_add(fill.minutes() as u64, Ordering::Relaxed);
        pipeline
            .stats
            .backfill
            .pending
            .fetch_add(1, Ordering::Relaxed);
        let _ = writer.send(Arc::new(fill));
    }
}

pub(super) fn announce(fill: &Fill, what: &str) {
    let days = fill.days();
    tracing::info!(
        minutes = fill.minutes(),
        days = days.len(),
        from = %days.first().map(ToString::to_string).unwrap_or_default(),
        "back-filling 1-minute history into the store: {what}"
    );
}

/// Store the fills handed over, one after another: chunks of whole minutes, oldest first,
/// bars already stored left out (a restart may have stored some of a minute's instruments),
/// retried until the store takes them; progress per day in the log and in `/health`.
pub(super) async fn write_history(
    mut fills: mpsc::UnboundedReceiver<Arc<Fill>>,
    store: Store,
    pipeline: Arc<Pipeline>,
) {
    let stats = &pipeline.stats.backfill;
    while let Some(fill) = fills.recv().await {
        let started = std::time::Instant::now();
        let days = fill.days();
        let mut existing: HashSet<(String, i64)> = HashSet::new();
        if let Some((first, last)) = fill.span() {
            let mut backoff = Duration::from_millis(200);
            loop {
                match store.minute_keys_between(first, last).await {
                    Ok(keys) => {
                        existing = keys.into_iter().collect();
                        break;
                    }
                    Err(e) => {
                        stats.failures.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(error = %e, "back-fill: cannot read the stored minutes; retrying");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
        }
        let chunks = fill.chunks(MINUTES_PER_CHUNK);
        let mut written_day = 0u64;
        for (i, chunk) in chunks.iter().enumerate() {
            let f = fill.clone();
            let c = *chunk;
            let Ok(mut bars) = tokio::task::spawn_blocking(move || f.bars(c)).await else {
                continue;
            };
            bars.retain(|b| !existing.contains(&(b.instrument.to_string(), b.start)));
            let mut backoff = Duration::from_millis(200);
            while let Err(e) = store.upsert_bars(&bars).await {
                stats.failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, bars = bars.len(), "back-fill: write failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            pipeline.absorb_history(&bars);
            let minutes = c.minutes() as u64;
            stats.minutes_written.fetch_add(minutes, Ordering::Relaxed);
            stats
                .bars_written
                .fetch_add(bars.len() as u64, Ordering::Relaxed);
            written_day += bars.len() as u64;
            let day = fill.day_of(c);
            let day_done = chunks.get(i + 1).is_none_or(|n| fill.day_of(*n) != day);
            if day_done {
                let n = day
                    .and_then(|d| days.iter().position(|x| *x == d))
                    .map_or(0, |p| p + 1);
                tracing::info!(
                    day = %day.map(|d: NaiveDate| d.to_string()).unwrap_or_default(),
                    progress = format!("{n}/{}", days.len()),
                    bars = written_day,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "back-fill progress"
                );
                written_day = 0;
            }
        }
        stats.pending.fetch_sub(1, Ordering::Relaxed);
        stats.done.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            minutes = fill.minutes(),
            seconds = started.elapsed().as_secs_f64(),
            "back-fill done"
        );
    }
}

/// The underlyings' prices before instant `at`: the stored closes (none where nothing was
/// stored before).
async fn before(
    store: &Store,
    at: i64,
    idx: &[(&'static str, &'static str)],
) -> anyhow::Result<HashMap<String, f64>> {
    let mut out = HashMap::new();
    for (name, display) in idx {
        if let Some(b) = store
            .last_bars(display, Timeframe::M1, 1, Some(at.div_euclid(1000) - 1))
            .await?
            .pop()
        {
            out.insert((*name).to_string(), b.close);
        }
    }
    Ok(out)
}
