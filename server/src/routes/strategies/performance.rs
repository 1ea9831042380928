//! A strategy's performance: its book valued now, metrics (P&L, drawdown, Sharpe), snapshots\nstored on a timer.

use super::*;

pub(super) async fn book_of(state: &AppState, s: &StrategyRow) -> Result<StrategyBook, ApiError> {
    let tag = tag_of(s.strategy_id);
    state
        .trading
        .evaluate(&s.owner, s.account_id, state.clock.now(), &[], |e, id| {
            book(e, id, &tag)
        })
        .await
        .map_err(trading_error)
}

pub(super) fn snapshot_row(s: &StrategyRow, b: &StrategyBook, at: i64) -> SnapshotRow {
    SnapshotRow {
        strategy_id: s.strategy_id,
        at,
        total_pnl: b.total_pnl(),
        realized_pnl: b.realized,
        unrealized_pnl: b.unrealized,
        open_positions: b.open_positions,
        total_quantity: b.total_quantity,
        capital_deployed: b.capital_deployed,
        margin_used: b.margin_used,
    }
}

/// Record one snapshot of `s` now (exchange-clock time).
pub(super) async fn snapshot(state: &AppState, s: &StrategyRow) -> Result<(), ApiError> {
    let b = book_of(state, s).await?;
    state
        .store
        .insert_strategy_snapshot(&snapshot_row(s, &b, state.clock.now()))
        .await
        .map_err(ApiError::store_unavailable)
}

/// `GET /strategies/{strategy_id}/metrics`.
#[utoipa::path(get, path = "/strategies/{strategy_id}/metrics", tag = "trading", params(("strategy_id" = inline(crate::wire::schema::RowId), Path)), security(("bearer" = [])), responses((status = 200, body = MetricsEnvelope)))]
pub(crate) async fn metrics(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<MetricsEnvelope>, ApiError> {
    let s = owned(&state, &auth, &id).await?;
    let b = book_of(&state, &s).await?;
    let now = state.clock.now();
    let snaps = state
        .store
        .strategy_snapshots(s.strategy_id, 0, now, 100_000)
        .await?;
    let total = b.total_pnl();
    let mut series: Vec<Paise> = snaps.iter().map(|x| x.total_pnl).collect();
    series.push(total);
    let peak_capital = snaps
        .iter()
        .map(|x| x.capital_deployed)
        .chain([b.capital_deployed])
        .max()
        .unwrap_or(0);
    // The last snapshot of each day, and now.
    let mut daily: Vec<(chrono::NaiveDate, Paise)> = Vec::new();
    for x in &snaps {
        let d = crate::routes::ist_today(x.at);
        match daily.last_mut() {
            Some(last) if last.0 == d => last.1 = x.total_pnl,
            _ => daily.push((d, x.total_pnl)),
        }
    }
    let today = crate::routes::ist_today(now);
    match daily.last_mut() {
        Some(last) if last.0 == today => last.1 = total,
        _ => daily.push((today, total)),
    }
    let before_today = daily
        .iter()
        .rev()
        .find(|(d, _)| *d < today)
        .map_or(0, |(_, v)| *v);
    let daily_values: Vec<Paise> = daily.iter().map(|(_, v)| *v).collect();
    Ok(MetricsEnvelope::ok(MetricsOut {
        total_pnl: rupees(total),
        day_pnl: rupees(total - before_today),
        unrealized_pnl: rupees(b.unrealized),
        realized_pnl: rupees(b.realized),
        charges: rupees(b.charges),
        open_positions: b.open_positions,
        total_quantity: b.total_quantity,
        capital_deployed: rupees(b.capital_deployed),
        margin_used: rupees(b.margin_used),
        total_trades: b.total_trades,
        winning_trades: b.winning_trades,
        losing_trades: b.losing_trades,
        max_drawdown: rupees(max_drawdown(&series)),
        sharpe_ratio: sharpe(&daily_values, peak_capital),
        roi: (peak_capital > 0).then(|| total as f64 / peak_capital as f64 * 100.0),
    }))
}

/// `GET /strategies/{strategy_id}/snapshots`: recorded while active, oldest first.
#[utoipa::path(get, path = "/strategies/{strategy_id}/snapshots", tag = "trading", params(("strategy_id" = inline(crate::wire::schema::RowId), Path), SnapshotsQuery), security(("bearer" = [])), responses((status = 200, body = SnapshotsEnvelope)))]
pub(crate) async fn snapshots(
    auth: Auth,
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<SnapshotsQuery>,
) -> Result<Json<SnapshotsEnvelope>, ApiError> {
    let s = owned(&state, &auth, &id).await?;
    let limit = crate::routes::bounded(
        "limit",
        q.limit.map(crate::routes::Count::get),
        100,
        1,
        10_000,
    )? as i64;
    let from = q.start_time.unwrap_or(0);
    let to = q.end_time.unwrap_or(i64::MAX / 2);
    if from > to {
        return Err(ApiError::bad_param("start_time", "is after end_time"));
    }
    let rows = state
        .store
        .strategy_snapshots(s.strategy_id, from, to, limit)
        .await?;
    Ok(SnapshotsEnvelope::ok(
        rows.iter()
            .map(|x| SnapshotOut {
                snapshot_time: x.at,
                total_pnl: rupees(x.total_pnl),
                realized_pnl: rupees(x.realized_pnl),
                unrealized_pnl: rupees(x.unrealized_pnl),
                open_positions: x.open_positions,
                total_quantity: x.total_quantity,
                capital_deployed: rupees(x.capital_deployed),
                margin_used: rupees(x.margin_used),
            })
            .collect(),
    ))
}

/// Record a snapshot of every active strategy whose account this replica matches, every
/// `every` (the others' replicas record theirs).
pub(crate) async fn run_snapshots(state: Arc<AppState>, every: Duration) -> anyhow::Result<()> {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let active = state.store.strategies_in("active").await?;
        for s in &active {
            match snapshot(&state, s).await {
                Ok(()) => {}
                Err(e) if e.code == "shard_unavailable" => {}
                Err(e) => {
                    tracing::warn!(strategy = s.strategy_id, error = %e.detail, "strategy snapshot not recorded");
                }
            }
        }
    }
}
