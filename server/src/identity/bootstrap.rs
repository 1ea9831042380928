//! First start: the bootstrap admin and its API key.

use stocksblitz_auth::Scopes;

use super::{Identity, accounts};

/// First start: create the admin/demo user and an API key, and write them once to
/// `<data_dir>/bootstrap-credentials.txt` (mode 0600). Takes STOCKSBLITZ_ADMIN_EMAIL /
/// STOCKSBLITZ_ADMIN_PASSWORD when set. Secrets never go to the log.
pub(crate) async fn bootstrap(id: &Identity, data_dir: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use stocksblitz_auth::idp::random_token;
    if id.store.count_users().await? > 0 {
        return Ok(());
    }
    let email = std::env::var("STOCKSBLITZ_ADMIN_EMAIL")
        .unwrap_or_else(|_| "demo@stocksblitz.local".into());
    let (password, generated) = match std::env::var("STOCKSBLITZ_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (format!("Sb-{}", random_token()?), true),
    };
    let (user_id, email) =
        accounts::create_user(&id.store, &email, "Admin", &password, "admin,user")
            .await
            .context(
                "creating the first user (STOCKSBLITZ_ADMIN_EMAIL / STOCKSBLITZ_ADMIN_PASSWORD)",
            )?;
    let (row, key) = accounts::issue_api_key(
        &id.store,
        user_id,
        accounts::KeySpec {
            name: "bootstrap".into(),
            description: Some("created at first start".into()),
            scopes: Scopes::parse_list("read,trade,cancel,modify").unwrap_or_default(),
            ..Default::default()
        },
    )
    .await?;
    stocksblitz_store::fsperm::secure_dir(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let path = data_dir.join("bootstrap-credentials.txt");
    let mut text = format!("email={email}\napi_key={key}\n");
    if generated {
        text.push_str(&format!("password={password}\n"));
    }
    // Created 0600 from the start (never briefly readable by others); written once.
    let _ = std::fs::remove_file(&path);
    stocksblitz_store::fsperm::write_private(&path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    tracing::info!(user = %email, key_id = %row.key_id, file = %path.display(), "first start: created the admin user and an API key; credentials written once to the file");
    Ok(())
}
