//! `patdesk`: the web app and API server, and the operator's command line.

use std::process::ExitCode;

/// A request allocates and frees many small strings and buffers (headers, JSON, query rows);
/// glibc's allocator spent a quarter of the server's CPU time on them (bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    server::cli::main()
}
