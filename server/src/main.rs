//! `patdesk`: the web app and API server, and the operator's command line.

use std::process::ExitCode;

fn main() -> ExitCode {
    server::cli::main()
}
