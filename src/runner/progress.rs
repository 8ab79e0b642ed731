//! Live progress while scenarios run: a bar on a terminal, a plain line every few seconds in CI
//! (no control codes when stderr is not a terminal), each scenario as it finishes with
//! `--verbose`, nothing with `--quiet`. Always on stderr, so stdout stays the report table.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::RunContext;
use crate::report::Verdict;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    #[default]
    Normal,
    Verbose,
}

pub struct Progress {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Progress {
    /// Follows `context`'s finished scenarios until `finish`.
    pub fn start(context: Arc<RunContext>, total: usize, verbosity: Verbosity) -> Self {
        if verbosity == Verbosity::Quiet || total == 0 {
            return Self {
                stop: None,
                task: None,
            };
        }
        let (stop, mut stopped) = oneshot::channel();
        let terminal = std::io::stderr().is_terminal();
        let task = tokio::spawn(async move {
            let bar = terminal.then(|| {
                let bar = indicatif::ProgressBar::new(total as u64);
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} scenarios · {msg} · {elapsed}",
                ) {
                    bar.set_style(style);
                }
                bar
            });
            let started = Instant::now();
            let mut seen = 0;
            let mut failed = 0;
            let mut last_line = Instant::now();
            let tick = if terminal {
                Duration::from_millis(100)
            } else {
                Duration::from_millis(500)
            };
            loop {
                let finished_now = tokio::select! {
                    _ = &mut stopped => true,
                    () = tokio::time::sleep(tick) => false,
                };
                let new: Vec<(String, Verdict, String)> = context
                    .results
                    .lock()
                    .map(|results| {
                        results
                            .iter()
                            .skip(seen)
                            .map(|r| (r.location(), r.verdict, r.name.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                seen += new.len();
                for (location, verdict, name) in &new {
                    failed += usize::from(matches!(verdict, Verdict::Fail | Verdict::Error));
                    if verbosity == Verbosity::Verbose {
                        let line = format!("{:<5} {location}  {name}", verdict.as_str());
                        match &bar {
                            Some(bar) => bar.println(line),
                            None => eprintln!("{line}"),
                        }
                    }
                }
                let summary = format!("{failed} failed or in error");
                match &bar {
                    Some(bar) => {
                        bar.set_position(seen as u64);
                        bar.set_message(summary);
                    }
                    // CI: a plain line every 5 s while something is happening.
                    None if verbosity == Verbosity::Normal
                        && !new.is_empty()
                        && last_line.elapsed() >= Duration::from_secs(5) =>
                    {
                        eprintln!(
                            "mts: {seen}/{total} scenarios finished ({summary}), {:.0} s",
                            started.elapsed().as_secs_f64()
                        );
                        last_line = Instant::now();
                    }
                    None => {}
                }
                if finished_now {
                    if let Some(bar) = &bar {
                        bar.finish_and_clear();
                    }
                    return;
                }
            }
        });
        Self {
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops following and clears the bar, after a last look at what finished.
    pub async fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}
