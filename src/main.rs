//! Thin entry point: parse the command line, set up logs, hand over to the library.

use clap::Parser;
use kidsearch::cli::{backup_or_restore, check, ipad_profile, user, Cli, Command};
use kidsearch::settings::Settings;
use kidsearch::Application;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc malloc: with thousands of iPad connections glibc's per-thread
/// arenas kept the peak (140 MB after a 3,000-connection load) for good; mimalloc gives freed
/// pages back and is faster on the small per-request allocations (benches/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    // Logs go to stderr (README): stdout is for what a command prints for its user.
    // Colours only on a terminal: under systemd or in a log file they would be escape codes.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .init();
    let code = match cli.command {
        Some(Command::Check { canary, filter_test, database }) => check(&cli.common, canary, filter_test, database),
        Some(Command::User(ref action)) => user(&cli.common, action),
        Some(Command::School(ref action)) => kidsearch::cli::school(&cli.common, action),
        Some(Command::Lists(ref action)) => kidsearch::cli::lists(&cli.common, action),
        Some(Command::IpadProfile { ref url, ref class, filter, ref allowlist, ref out }) => ipad_profile(url, class, filter, allowlist, out.as_deref()),
        Some(ref command @ (Command::Backup { .. } | Command::Restore { .. })) => backup_or_restore(&cli.common, command),
        Some(Command::Health { ref url }) => kidsearch::cli::health(&cli.common, url.as_deref()),
        Some(Command::Serve) | None => serve(&cli.common),
    };
    std::process::exit(code);
}

fn serve(common: &kidsearch::cli::Common) -> i32 {
    let settings = match Settings::load(&common.sources()) {
        Ok(s) => s,
        Err(problems) => {
            eprint!("kidsearch cannot start:\n{problems}");
            return 1;
        }
    };
    let listen = settings.server.listen.clone();
    let ready = settings.engines.for_pupils().count();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kidsearch cannot start: {e}");
            return 1;
        }
    };
    runtime.block_on(async move {
        let app = match Application::build(settings) {
            Ok(app) => app,
            Err(e) => {
                eprintln!("kidsearch cannot start: {e}");
                return 1;
            }
        };
        let host = listen.rsplit_once(':').map_or("localhost", |(h, _)| if h == "0.0.0.0" || h == "[::]" { "localhost" } else { h });
        tracing::info!(engines_ready_for_pupils = ready, "kidsearch listening on {listen}");
        println!("kidsearch is running: open http://{host}:{}/ (Ctrl+C to stop)", app.port());
        if let Some(code) = app.setup_code() {
            println!("No staff account yet: open http://localhost:{}/staff on this computer to create the first admin (from another computer, use the setup code {code}).", app.port());
        }
        match app.run_until_stopped().await {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("kidsearch stopped with an error: {e}");
                1
            }
        }
    })
}
