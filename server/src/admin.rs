//! Administration subcommands: `users add`, `api-keys create|list|revoke`, `keys rotate`.
//! They work on the same store as the server (DATABASE_URL or the data dir) and print secrets
//! once, to stdout only — never to the log.

use std::io::{BufRead as _, Write as _};

use anyhow::{Context as _, bail};
use clap::Subcommand;
use stocksblitz_auth::Scopes;
use stocksblitz_store::Store;

use crate::identity::accounts::{self, AccountError, KeySpec};

use crate::ingest::now_ms;

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Manage users.
    #[command(subcommand)]
    Users(UsersCmd),
    /// Manage API keys.
    #[command(subcommand, name = "api-keys")]
    ApiKeys(KeysCmd),
    /// Manage the identity provider's signing keys.
    #[command(subcommand)]
    Keys(SigningCmd),
}

#[derive(Debug, Clone, Subcommand)]
pub enum UsersCmd {
    /// Add a user. The password is read from stdin (`--password-stdin`) or generated and
    /// printed once; it is never a command-line argument (those show in `ps`).
    Add {
        email: String,
        #[arg(long, default_value = "")]
        name: String,
        /// Give the user the admin role.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum KeysCmd {
    /// Create an API key for a user; the key is printed once.
    Create {
        /// The owner's email.
        email: String,
        #[arg(long, default_value = "cli")]
        name: String,
        /// Comma-separated scopes: read, trade, cancel, modify, admin.
        #[arg(long, default_value = "read")]
        scopes: String,
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..=3650))]
        expires_in_days: Option<i64>,
        /// Comma-separated addresses or CIDR blocks the key may be used from.
        #[arg(long)]
        ip_allowlist: Option<String>,
    },
    /// List a user's API keys (never the secrets).
    List { email: String },
    /// Revoke an API key by its id (the 8 hex digits after `sb_`).
    Revoke {
        key_id: String,
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum SigningCmd {
    /// Start signing with a new key; the previous one stays published until its tokens expire.
    Rotate {
        /// How long the previous key stays published (seconds; at least the access-token TTL).
        #[arg(long, default_value_t = 900 + 60, value_parser = clap::value_parser!(i64).range(60..=86_400))]
        keep_previous_secs: i64,
    },
}

/// Run one subcommand against the store.
/// Run a subcommand on the store; with `shared` (REDIS_URL) revocations reach running servers at
/// once.
pub(crate) async fn run(
    store: &Store,
    cfg: &crate::Config,
    cmd: Command,
    shared: Option<&crate::identity::shared::Shared>,
) -> anyhow::Result<()> {
    match cmd {
        Command::Users(UsersCmd::Add {
            email,
            name,
            admin,
            password_stdin,
        }) => add_user(store, &email, &name, admin, password_stdin).await,
        Command::ApiKeys(KeysCmd::Create {
            email,
            name,
            scopes,
            expires_in_days,
            ip_allowlist,
        }) => {
            let user = user(store, &email).await?;
            let scopes =
                Scopes::parse_list(&scopes).map_err(|e| anyhow::anyhow!("--scopes: {e}"))?;
            let spec = KeySpec {
                name,
                description: Some("created with the CLI".into()),
                scopes,
                ip_allowlist: ip_allowlist
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(String::from)
                    .collect(),
                expires_in_days,
                ..Default::default()
            };
            let (row, key) = accounts::issue_api_key(store, user, spec).await?;
            tracing::info!(key_id = %row.key_id, user = %email, "API key created");
            println!(
                "key_id={}\napi_key={key}\nscopes={}",
                row.key_id, row.scopes
            );
            Ok(())
        }
        Command::ApiKeys(KeysCmd::List { email }) => {
            let user = user(store, &email).await?;
            println!("key_id    name                 scopes                      state");
            for k in store.api_keys_of(user).await? {
                let now = now_ms();
                let state = match (k.revoked_at, k.expires_at) {
                    (Some(_), _) => "revoked",
                    (None, Some(e)) if e <= now => "expired",
                    _ => "active",
                };
                println!("{:<9} {:<20} {:<27} {state}", k.key_id, k.name, k.scopes);
            }
            Ok(())
        }
        Command::ApiKeys(KeysCmd::Revoke { key_id, reason }) => {
            let key_id = key_id.trim().trim_start_matches("sb_");
            if key_id.len() != 8 || !key_id.bytes().all(|b| b.is_ascii_hexdigit()) {
                bail!("a key id is the 8 hex digits after sb_ (got {key_id:?})");
            }
            let key_id = key_id.to_ascii_lowercase();
            let Some(row) = store.api_key(&key_id).await? else {
                bail!("no API key {key_id}");
            };
            if row.revoked_at.is_some() {
                println!("key {key_id} was already revoked");
                return Ok(());
            }
            let reason = reason
                .as_deref()
                .map(|r| r.chars().take(200).collect::<String>());
            store
                .revoke_api_key(&key_id, row.user_id, now_ms(), reason.as_deref())
                .await?;
            tracing::info!(key_id = %key_id, "API key revoked");
            match shared {
                Some(sh) => {
                    sh.publish(&crate::identity::shared::Revocation::Key(key_id.clone()))
                        .await?;
                    println!("revoked {key_id} (running servers told through Redis)");
                }
                None => {
                    println!("revoked {key_id} (running servers stop accepting it within 5 s)");
                }
            }
            Ok(())
        }
        Command::Keys(SigningCmd::Rotate { keep_previous_secs }) => {
            let now = now_ms();
            let retired = store
                .retire_signing_keys(now, now + keep_previous_secs * 1000)
                .await?;
            let kek =
                crate::identity::kek::load(store, &cfg.data_dir, cfg.kek_file.as_deref()).await?;
            let k = crate::identity::new_signing_key(store, &kek, now).await?;
            tracing::info!(kid = %k.kid, retired, "signing key rotated");
            println!(
                "new signing key {} ({retired} previous key(s) published for {keep_previous_secs} s more; running servers pick it up within 30 s)",
                k.kid
            );
            Ok(())
        }
    }
}

async fn user(store: &Store, email: &str) -> anyhow::Result<i64> {
    let email =
        crate::identity::accounts::normalize_email(email).map_err(|e| anyhow::anyhow!("{e}"))?;
    match store.user_by_email(&email).await? {
        Some(u) => Ok(u.user_id),
        None => bail!("no user {email}"),
    }
}

async fn add_user(
    store: &Store,
    email: &str,
    name: &str,
    admin: bool,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let email =
        crate::identity::accounts::normalize_email(email).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (pw, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        (line.trim_end_matches(['\r', '\n']).to_string(), false)
    } else {
        (
            format!("Sb-{}", stocksblitz_auth::idp::random_token()?),
            true,
        )
    };
    let roles = if admin { "admin,user" } else { "user" };
    match accounts::create_user(store, &email, name, &pw, roles).await {
        Ok((id, email)) => {
            tracing::info!(user = %email, user_id = id, "user added");
            let mut out = std::io::stdout().lock();
            writeln!(out, "user_id={id}\nemail={email}\nroles={roles}")?;
            if generated {
                writeln!(out, "password={pw}")?;
            }
            Ok(())
        }
        Err(AccountError::Taken) => bail!("user {email} already exists"),
        Err(e) => Err(e.into()),
    }
}
