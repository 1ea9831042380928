//! Paper-trading persistence against BOTH back-ends for real (a SQLite file and the local
//! PostgreSQL, a schema per test): accounts, the fenced event log, leases, idempotency keys, and
//! the broker's own events stored and replayed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::backends;
use stocksblitz_store::trading::{MAX_ACCOUNTS_PER_OWNER, StoredEvent};
use stocksblitz_store::{Store, StoreError};

fn ev(seq: i64, body: &str) -> StoredEvent {
    StoredEvent {
        seq,
        at: 1_000 + seq,
        body: body.to_string(),
    }
}

#[tokio::test]
async fn accounts_belong_to_their_owner_with_unique_names_and_a_shard() {
    for (name, store, _schema, _dir) in backends("accounts").await {
        let a = store
            .create_paper_account("user:1", "primary", 100_000_000, 16, 5)
            .await
            .unwrap();
        let b = store
            .create_paper_account("user:1", "scalping", 50_000_000, 16, 6)
            .await
            .unwrap();
        let c = store
            .create_paper_account("user:2", "primary", 1, 16, 7)
            .await
            .unwrap();
        assert_eq!(a.shard, a.account_id % 16, "{name}");
        assert_eq!(
            (a.owner.as_str(), a.opening_balance),
            ("user:1", 100_000_000)
        );
        let mine: Vec<i64> = store
            .paper_accounts_of("user:1")
            .await
            .unwrap()
            .iter()
            .map(|x| x.account_id)
            .collect();
        assert_eq!(mine, vec![a.account_id, b.account_id], "{name}");
        assert_eq!(
            store
                .paper_account(c.account_id)
                .await
                .unwrap()
                .unwrap()
                .owner,
            "user:2"
        );
        assert!(store.paper_account(999_999).await.unwrap().is_none());
        let dup = store
            .create_paper_account("user:1", "primary", 1, 16, 8)
            .await;
        assert!(matches!(dup, Err(StoreError::Exists(_))), "{name}: {dup:?}");
        let in_shard = store.paper_accounts_in_shard(a.shard).await.unwrap();
        assert!(in_shard.iter().any(|x| x.account_id == a.account_id));
        assert!(in_shard.iter().all(|x| x.shard == a.shard));
        // A bound on accounts per owner.
        for i in 0..MAX_ACCOUNTS_PER_OWNER {
            let _ = store
                .create_paper_account("user:9", &format!("a{i}"), 1, 16, 9)
                .await;
        }
        let over = store
            .create_paper_account("user:9", "one-more", 1, 16, 9)
            .await;
        assert!(
            matches!(over, Err(StoreError::Limit(_))),
            "{name}: {over:?}"
        );
    }
}

#[tokio::test]
async fn the_event_log_is_fenced_by_the_lease_and_by_seq() {
    for (name, store, _schema, _dir) in backends("events").await {
        // Without the lease nothing is written.
        let r = store
            .append_broker_events(3, "replica-a", 100, &[ev(1, "{}")])
            .await;
        assert!(
            matches!(r, Err(StoreError::LeaseLost { shard: 3 })),
            "{name}: {r:?}"
        );
        assert!(
            store
                .acquire_lease(3, "replica-a", 100, 10_000)
                .await
                .unwrap()
        );
        store
            .append_broker_events(
                3,
                "replica-a",
                200,
                &[ev(1, "{\"a\":1}"), ev(2, "{\"a\":2}")],
            )
            .await
            .unwrap();
        // A seq written twice: refused, and nothing of the batch is written.
        let r = store
            .append_broker_events(3, "replica-a", 300, &[ev(3, "{}"), ev(2, "{\"dup\":1}")])
            .await;
        assert!(
            matches!(r, Err(StoreError::Conflict { shard: 3, seq: 2 })),
            "{name}: {r:?}"
        );
        let all = store.broker_events(3, 0).await.unwrap();
        assert_eq!(
            all.iter()
                .map(|e| (e.seq, e.body.as_str()))
                .collect::<Vec<_>>(),
            vec![(1, "{\"a\":1}"), (2, "{\"a\":2}")],
            "{name}"
        );
        assert_eq!(store.broker_events(3, 1).await.unwrap().len(), 1);
        assert!(store.broker_events(4, 0).await.unwrap().is_empty());
        // Another replica cannot take a live lease; it can once it expires, and then the first
        // one is fenced out.
        assert!(
            !store
                .acquire_lease(3, "replica-b", 5_000, 10_000)
                .await
                .unwrap()
        );
        assert!(
            store
                .acquire_lease(3, "replica-a", 9_000, 10_000)
                .await
                .unwrap(),
            "renewal"
        );
        assert!(
            !store
                .acquire_lease(3, "replica-b", 18_999, 10_000)
                .await
                .unwrap()
        );
        assert!(
            store
                .acquire_lease(3, "replica-b", 19_000, 10_000)
                .await
                .unwrap()
        );
        let lease = store.lease(3).await.unwrap().unwrap();
        assert_eq!(
            (lease.holder.as_str(), lease.expires_at),
            ("replica-b", 29_000)
        );
        let r = store
            .append_broker_events(3, "replica-a", 19_500, &[ev(3, "{}")])
            .await;
        assert!(
            matches!(r, Err(StoreError::LeaseLost { .. })),
            "{name}: {r:?}"
        );
        store
            .append_broker_events(3, "replica-b", 19_500, &[ev(3, "{\"b\":3}")])
            .await
            .unwrap();
        assert!(!store.release_lease(3, "replica-a").await.unwrap());
        assert!(store.release_lease(3, "replica-b").await.unwrap());
        assert!(store.lease(3).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn idempotency_keys_return_the_first_response_within_their_window() {
    for (name, store, _schema, _dir) in backends("idem").await {
        assert_eq!(
            store.idempotent_response("user:1", "k1", 0).await.unwrap(),
            None
        );
        let first = store
            .remember_response("user:1", "k1", "{\"order_id\":1}", 10, 0)
            .await
            .unwrap();
        let again = store
            .remember_response("user:1", "k1", "{\"order_id\":2}", 11, 0)
            .await
            .unwrap();
        assert_eq!(first, "{\"order_id\":1}", "{name}");
        assert_eq!(
            again, "{\"order_id\":1}",
            "{name}: the first response stands"
        );
        // Keys are per owner.
        let other = store
            .remember_response("user:2", "k1", "{\"order_id\":3}", 12, 0)
            .await
            .unwrap();
        assert_eq!(other, "{\"order_id\":3}");
        // Past its window a key is forgotten: not answered, and a new response replaces it.
        assert_eq!(
            store.idempotent_response("user:1", "k1", 11).await.unwrap(),
            None,
            "{name}"
        );
        let later = store
            .remember_response("user:1", "k1", "{\"order_id\":4}", 100, 11)
            .await
            .unwrap();
        assert_eq!(later, "{\"order_id\":4}", "{name}: a stale key is replaced");
    }
}

/// The broker's own events: stored as JSON, loaded after a "restart" (a new store on the same
/// data), replayed into the same state.
#[tokio::test]
async fn broker_events_survive_a_reopen_and_replay_to_the_same_state() {
    use stocksblitz_broker::{
        AccountId, Command, Config, Engine, Event, OrderRequest, OrderType, Product, Quote, Side,
    };
    let now = 1_796_185_800_000; // 2026-12-02 10:00 IST
    let mut e = Engine::new(Config::embedded().unwrap());
    let mut log: Vec<Event> = e.on_clock(now);
    let (_, ev1) = e.handle(
        now,
        Command::OpenAccount {
            account: AccountId(1),
            opening_balance: 100_000_000,
        },
    );
    log.extend(ev1);
    log.extend(e.on_quote("NIFTY 50", Quote::ltp(now, 2_600_000)));
    log.extend(e.on_quote(
        "NIFTY26DEC26000CE",
        Quote::book(now, 20_000, 19_995, 20_005, 1000, 1000),
    ));
    let (r, ev2) = e.handle(
        now,
        Command::Place(OrderRequest::new(
            AccountId(1),
            "NIFTY26DEC26000CE",
            Side::Buy,
            65,
            OrderType::Market,
            Product::Nrml,
        )),
    );
    assert!(r.is_ok());
    log.extend(ev2);
    let stored: Vec<StoredEvent> = log
        .iter()
        .map(|x| StoredEvent {
            seq: x.seq as i64,
            at: x.at,
            body: serde_json::to_string(x).unwrap(),
        })
        .collect();
    for (name, store, schema, dir) in backends("replay").await {
        assert!(store.acquire_lease(0, "r1", now, 10_000).await.unwrap());
        store
            .append_broker_events(0, "r1", now, &stored)
            .await
            .unwrap();
        drop(store);
        let reopened = match &schema {
            Some(s) => Store::open_url(&s.url(None)).await.unwrap(),
            None => Store::open_sqlite_dir(dir.path()).await.unwrap(),
        };
        let loaded: Vec<Event> = reopened
            .broker_events(0, 0)
            .await
            .unwrap()
            .iter()
            .map(|s| serde_json::from_str(&s.body).unwrap())
            .collect();
        assert_eq!(loaded, log, "{name}");
        let replayed = Engine::replay(Config::embedded().unwrap(), &loaded);
        assert_eq!(replayed.state(), e.state(), "{name}");
        assert_eq!(replayed.account(AccountId(1)).unwrap().positions.len(), 1);
    }
}
