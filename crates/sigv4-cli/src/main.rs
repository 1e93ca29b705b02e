//! `sigv4`: sign, presign, verify and inspect AWS Signature Version 4 requests.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod credentials_cmd;
mod explain;
mod presign_cmd;
mod proxy_cmd;
mod request_cmd;
mod sign_cmd;
mod verify_cmd;

/// AWS Signature Version 4 from the command line.
#[derive(Parser, Debug)]
#[command(name = "sigv4", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Sign a request (header signing, or a presigned URL with --presign).
    Sign(sign_cmd::SignArgs),
    /// Print a presigned URL.
    Presign(presign_cmd::PresignArgs),
    /// Send a signed HTTP request and print the response (like curl --aws-sigv4).
    Request(request_cmd::RequestArgs),
    /// Resolve credentials through the default chain and show which provider answered.
    Credentials(credentials_cmd::CredentialsArgs),
    /// Verify the signature of a raw HTTP request.
    Verify(verify_cmd::VerifyArgs),
    /// Run a verifying, re-signing reverse proxy.
    Proxy(proxy_cmd::ProxyArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if e.use_stderr() {
                // One line naming the problem; the full usage is one `--help` away.
                let rendered = e.to_string();
                let summary: Vec<&str> = rendered
                    .lines()
                    .take_while(|l| !l.trim().is_empty())
                    .map(str::trim)
                    .collect();
                let summary = summary.join(" ");
                eprintln!("sigv4: {}", summary.trim_start_matches("error: "));
                eprintln!("(see `sigv4 --help`)");
                return ExitCode::from(2);
            }
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    let code = match &cli.command {
        Command::Sign(args) => sign_cmd::run(args),
        Command::Presign(args) => presign_cmd::run(args),
        Command::Request(args) => request_cmd::run(args),
        Command::Credentials(args) => exit_code(credentials_cmd::run(args)),
        Command::Verify(args) => exit_code(verify_cmd::run(args)),
        Command::Proxy(args) => proxy_cmd::run(args),
    };
    ExitCode::from(code)
}

/// Exit codes outside 0..=255 become 1.
fn exit_code(code: i32) -> u8 {
    u8::try_from(code).unwrap_or(1)
}
