//! `stocksblitz-server`: the native entry point (the Python wheel calls the same `run_cli`).
fn main() -> std::process::ExitCode {
    stocksblitz_server::run_cli(std::env::args_os())
}
