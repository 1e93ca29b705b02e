//! `sigv4`: sign, presign, verify and inspect AWS Signature Version 4 requests.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod common;
mod credentials_cmd;
mod explain;
mod keys;
mod post_cmd;
mod presign_cmd;
mod proxy_cmd;
mod request_cmd;
mod sign_cmd;
mod sigv4a_cmd;
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

/// `sigv4 presign --post`: a browser POST form instead of a URL.
#[derive(Parser, Debug)]
#[command(name = "sigv4 presign --post")]
struct PostCli {
    /// Print an S3 POST policy form (URL and fields as JSON).
    #[arg(long)]
    post: bool,
    #[command(flatten)]
    args: post_cmd::PostArgs,
}

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.get(1).is_some_and(|a| a == "presign") && argv.iter().skip(2).any(|a| a == "--post") {
        let post = std::iter::once(std::ffi::OsString::from("sigv4 presign --post"))
            .chain(argv[2..].iter().cloned());
        return match PostCli::try_parse_from(post) {
            Ok(p) => ExitCode::from(post_cmd::run_post(&p.args)),
            Err(e) => usage_error(&e),
        };
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            return usage_error(&e);
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

/// Clap errors as one line naming the problem, exit 2; `--help` and
/// `--version` print as usual and exit 0.
fn usage_error(e: &clap::Error) -> ExitCode {
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
    ExitCode::SUCCESS
}
