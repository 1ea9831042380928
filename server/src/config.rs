//! Command line and environment configuration (clap).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// stocksblitz market-data and analytics server.
///
/// With no configuration it runs embedded: a SQLite store under ./stocksblitz-data and an
/// in-process tick bus. Set DATABASE_URL / REDIS_URL for PostgreSQL and Redis.
#[derive(Debug, Clone, Parser)]
#[command(name = "stocksblitz-server", version)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "STOCKSBLITZ_ADDR", default_value = "127.0.0.1:8081")]
    pub addr: SocketAddr,

    /// Directory of the embedded store (used when DATABASE_URL is not set).
    #[arg(
        long,
        env = "STOCKSBLITZ_DATA_DIR",
        default_value = "./stocksblitz-data"
    )]
    pub data_dir: PathBuf,

    /// Database URL: postgres://… for PostgreSQL, sqlite:… for a SQLite file.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Redis URL (tick bus and shared state for several replicas).
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Log filter: a level (error, warn, info, debug, trace) or a tracing directive list.
    #[arg(long, env = "STOCKSBLITZ_LOG", default_value = "info")]
    pub log_level: String,

    /// Log output format.
    #[arg(
        long,
        env = "STOCKSBLITZ_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
}
