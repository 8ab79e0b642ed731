use mts::commands;
use mts::exit::ExitCode;

fn main() -> std::process::ExitCode {
    let cli = match commands::parse_cli() {
        Ok(cli) => cli,
        // clap prints help/version (exit 0) or the usage error (exit 2) itself.
        Err(error) => error.exit(),
    };
    if !commands::needs_runtime(&cli) {
        return commands::run_sync(cli).into();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::Internal.into();
        }
    };
    runtime.block_on(commands::run_async(cli)).into()
}
