//! `patdesk`: the web app and API server, and the operator's command line.

use std::process::ExitCode;

/// A request allocates and frees many small strings and buffers (headers, JSON, query rows);
/// glibc's allocator spent a quarter of the server's CPU time on them (bench/README.md). The
/// `override` feature (server/Cargo.toml) sends the bundled SQLite's `malloc` calls here too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    server::cli::main()
}
