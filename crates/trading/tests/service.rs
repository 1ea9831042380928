//! The trading service against BOTH back-ends for real (a SQLite file and the local
//! PostgreSQL, a schema per test): write-ahead, recovery after a crash, fills applied once,
//! ownership, and shard leases between two replicas.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use stocksblitz_broker::{
    Command, Config, EntryKind, OrderRequest, OrderType, Product, Quote, Reject, Reply, Side,
    Status,
};
use stocksblitz_store::Store;

use stocksblitz_trading::{QuoteSource, Trading, TradingConfig, TradingError};

const NOW: i64 = 1_796_185_800_000; // 2026-12-02 10:00 IST
const CE: &str = "NIFTY26DEC26000CE";

fn pg_base() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Where a test's store lives: a SQLite data dir, or a fresh schema on the local PostgreSQL.
enum Db {
    Sqlite(tempfile::TempDir),
    Pg(String),
}

impl Db {
    /// Open the store (again: a "restarted" process opens the same data).
    async fn open(&self) -> Store {
        match self {
            Db::Sqlite(dir) => Store::open_sqlite_dir(dir.path()).await.unwrap(),
            Db::Pg(url) => Store::open_url(url).await.unwrap(),
        }
    }
}

async fn backends(tag: &str) -> Vec<(String, Db)> {
    let schema = format!(
        "tr_{tag}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros()
            % 1_000_000_000
    );
    let admin = match sqlx::postgres::PgPoolOptions::new()
        // Refused at once when PostgreSQL is absent (the default waits 30 s).
        .acquire_timeout(std::time::Duration::from_secs(3))
        .connect(&pg_base())
        .await
    {
        Ok(a) => a,
        Err(e) if std::env::var_os("STOCKSBLITZ_REQUIRE_POSTGRES").is_none() => {
            eprintln!("PostgreSQL unreachable ({e}): skipping the PostgreSQL half of {tag}");
            return vec![("sqlite".into(), Db::Sqlite(tempfile::tempdir().unwrap()))];
        }
        Err(e) => panic!("PostgreSQL is required here (STOCKSBLITZ_REQUIRE_POSTGRES): {e}"),
    };
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let base = pg_base();
    let sep = if base.contains('?') { '&' } else { '?' };
    vec![
        ("sqlite".into(), Db::Sqlite(tempfile::tempdir().unwrap())),
        (
            "postgres".into(),
            Db::Pg(format!("{base}{sep}options=-csearch_path%3D{schema}")),
        ),
    ]
}

/// The market as the tests set it: the latest quote per symbol.
#[derive(Default)]
struct Market(Mutex<HashMap<String, Quote>>);

impl Market {
    fn set(&self, quotes: &[(String, Quote)]) {
        let mut m = self.0.lock().unwrap();
        for (s, q) in quotes {
            m.insert(s.clone(), *q);
        }
    }
}

impl QuoteSource for Market {
    fn quote(&self, tradingsymbol: &str) -> Option<Quote> {
        self.0.lock().unwrap().get(tradingsymbol).copied()
    }
}

fn service(store: Store, market: &Arc<Market>, holder: &str) -> Trading {
    Trading::new(store, cfg(), holder, market.clone())
}

fn cfg() -> TradingConfig {
    TradingConfig::new(Config::embedded().unwrap())
}

fn quotes(at: i64, ask: i64) -> Vec<(String, Quote)> {
    vec![
        ("NIFTY 50".to_string(), Quote::ltp(at, 2_600_000)),
        (
            CE.to_string(),
            Quote::book(at, ask - 5, ask - 10, ask, 1000, 1000),
        ),
    ]
}

fn limit_buy(account: i64, price: i64) -> Command {
    let mut r = OrderRequest::new(
        stocksblitz_broker::AccountId(account as u64),
        CE,
        Side::Buy,
        65,
        OrderType::Limit,
        Product::Nrml,
    );
    r.price = Some(price);
    Command::Place(r)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledged_order_survives_a_crash_and_fills_once() {
    for (name, db) in backends("crash").await {
        let market = Arc::new(Market::default());
        let a = service(db.open().await, &market, "replica-a");
        let acc = a.primary_account("user:1", NOW).await.unwrap();
        assert_eq!(acc.name, "primary");
        let shard_quotes = quotes(NOW, 20_100);
        // Quotes reach only engines that know the instrument: place first, then quote.
        let r = a
            .execute(
                "user:1",
                acc.account_id,
                NOW,
                limit_buy(acc.account_id, 19_000),
            )
            .await;
        assert!(
            matches!(&r, Err(TradingError::Rejected(rej)) if matches!(rej.reason, Reject::NoQuote { .. })),
            "{name}: {r:?}"
        );
        market.set(&shard_quotes);
        a.on_quotes(&shard_quotes).await.unwrap();
        let (reply, _) = a
            .execute(
                "user:1",
                acc.account_id,
                NOW + 1000,
                limit_buy(acc.account_id, 19_000),
            )
            .await
            .unwrap();
        let Reply::Orders(ids) = reply else { panic!() };
        let oid = ids[0];
        // "kill -9": the service is dropped without releasing anything.
        drop(a);
        // A new replica on the same store waits for the lease to lapse, then rebuilds the shard.
        let b = service(db.open().await, &market, "replica-b");
        let early = b
            .view("user:1", acc.account_id, NOW + 2000, |e, _| {
                e.order(oid).cloned()
            })
            .await;
        assert!(
            matches!(early, Err(TradingError::Unavailable { .. })),
            "{name}: {early:?}"
        );
        let later = NOW + 12_000;
        let o = b
            .view("user:1", acc.account_id, later, |e, _| {
                e.order(oid).cloned()
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            o.status,
            Status::Open,
            "{name}: the acknowledged order came back"
        );
        // The market comes down to the limit: it fills once, and again on the same quote
        // nothing more happens.
        market.set(&quotes(later, 18_900));
        let fills = b.on_quotes(&quotes(later, 18_900)).await.unwrap();
        let again = b.on_quotes(&quotes(later, 18_900)).await.unwrap();
        let trades = |evs: &[stocksblitz_broker::Event]| {
            evs.iter()
                .filter(|e| matches!(e.body, stocksblitz_broker::EventBody::Trade { .. }))
                .count()
        };
        assert_eq!((trades(&fills), trades(&again)), (1, 0), "{name}");
        // Funds add up: ₹10 lakh − 65 × 190.00 − the order's charges, from the ledger.
        let (balance, charges, status) = b
            .view("user:1", acc.account_id, later, |e, id| {
                let acc = e.account(id).unwrap();
                let charges: i64 = acc
                    .ledger
                    .iter()
                    .filter(|x| x.kind == EntryKind::Charges)
                    .map(|x| -x.amount)
                    .sum();
                (acc.balance, charges, e.order(oid).unwrap().status)
            })
            .await
            .unwrap();
        assert_eq!(status, Status::Complete);
        assert_eq!(balance, 100_000_000 - 65 * 19_000 - charges, "{name}");
        // And a third replica after b "crashes" sees exactly the same books.
        drop(b);
        let c = service(db.open().await, &market, "replica-c");
        let far = later + 20_000;
        let balance_c = c
            .view("user:1", acc.account_id, far, |e, id| {
                e.account(id).unwrap().balance
            })
            .await
            .unwrap();
        assert_eq!(balance_c, balance, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_their_owners_and_rejections_are_recorded() {
    for (name, db) in backends("owner").await {
        let market = Arc::new(Market::default());
        let t = service(db.open().await, &market, "r1");
        let mine = t.primary_account("user:1", NOW).await.unwrap();
        let again = t.primary_account("user:1", NOW).await.unwrap();
        assert_eq!(mine.account_id, again.account_id, "{name}: one primary");
        let theirs = t.primary_account("user:2", NOW).await.unwrap();
        let r = t.view("user:1", theirs.account_id, NOW, |_, _| ()).await;
        assert!(matches!(r, Err(TradingError::NotFound(_))), "{name}");
        // A command naming another account than the one addressed is refused too.
        let r = t
            .execute(
                "user:1",
                mine.account_id,
                NOW,
                limit_buy(theirs.account_id, 100),
            )
            .await;
        assert!(matches!(r, Err(TradingError::NotFound(_))), "{name}");
        // A refused order is stored as REJECTED and comes back after a restart.
        market.set(&quotes(NOW, 20_100));
        let mut bad = OrderRequest::new(
            stocksblitz_broker::AccountId(mine.account_id as u64),
            CE,
            Side::Buy,
            50,
            OrderType::Market,
            Product::Nrml,
        );
        bad.tag = Some("t".into());
        let r = t
            .execute("user:1", mine.account_id, NOW, Command::Place(bad))
            .await;
        let Err(TradingError::Rejected(rej)) = r else {
            panic!("{name}: {r:?}")
        };
        let oid = rej.order_id.unwrap();
        t.release_all().await.unwrap();
        let t2 = service(db.open().await, &market, "r2");
        let o = t2
            .view("user:1", mine.account_id, NOW + 1, |e, _| {
                e.order(oid).cloned()
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(o.status, Status::Rejected, "{name}");
        assert!(o.status_message.unwrap().contains("lot size 65"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_lost_its_lease_cannot_write_and_the_new_one_serves() {
    for (name, db) in backends("lease").await {
        let market = Arc::new(Market::default());
        let a = service(db.open().await, &market, "a");
        let b = service(db.open().await, &market, "b");
        let acc = a.primary_account("user:1", NOW).await.unwrap();
        market.set(&quotes(NOW, 20_100));
        // B cannot serve the shard A holds.
        let r = b.view("user:1", acc.account_id, NOW + 1, |_, _| ()).await;
        assert!(matches!(r, Err(TradingError::Unavailable { .. })), "{name}");
        // A stalls past its lease; B takes over and changes the books.
        let t1 = NOW + 11_000;
        assert!(
            b.claim_free_shards(t1).await.unwrap().contains(&acc.shard),
            "{name}"
        );
        market.set(&quotes(t1, 20_100));
        b.execute(
            "user:1",
            acc.account_id,
            t1,
            limit_buy(acc.account_id, 19_000),
        )
        .await
        .unwrap();
        // A wakes up: its write is fenced, it drops its engine and reports the shard as busy.
        let r = a
            .execute(
                "user:1",
                acc.account_id,
                t1 + 1,
                limit_buy(acc.account_id, 18_000),
            )
            .await;
        assert!(
            matches!(r, Err(TradingError::Unavailable { .. })),
            "{name}: {r:?}"
        );
        assert!(a.served_shards().await.is_empty(), "{name}");
        // B renews on its ticks and keeps the shard; after B shuts down cleanly A rebuilds
        // it with B's order in it.
        b.tick(t1 + 5_000).await.unwrap();
        b.release_all().await.unwrap();
        let open_orders = a
            .view("user:1", acc.account_id, t1 + 6_000, |e, id| {
                e.account(id).unwrap().open_orders.len()
            })
            .await
            .unwrap();
        assert_eq!(open_orders, 1, "{name}");
    }
}
