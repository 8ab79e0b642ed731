//! The console table in a real terminal: `script(1)` gives `mts run` a pseudo-terminal, `stty`
//! sets its width, and every line of the table must fit it, one row per requirement.

mod common;

use std::process::Command;

/// What `mts run` prints on a pseudo-terminal `columns` wide (colours as `no_color` says).
fn run_in_terminal(columns: usize, no_color: bool, out: &std::path::Path) -> String {
    let binary = env!("CARGO_BIN_EXE_mts");
    let shell = format!(
        "stty cols {columns} rows 50; exec {binary} run --fault bad-nhs-number --requirements IOP-SRCH,IOP-UKC --out {} 2>/dev/null",
        out.display()
    );
    let mut command = Command::new("script");
    command
        .args(["-qec", &shell, "/dev/null"])
        .env_remove("COLUMNS")
        .env("TERM", "xterm-256color");
    if no_color {
        command.env("NO_COLOR", "1");
    } else {
        command.env_remove("NO_COLOR");
    }
    let output = command
        .output()
        .expect("script(1) from util-linux runs the harness in a pseudo-terminal");
    String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n")
}

/// Display width, escape sequences left out.
fn width(line: &str) -> usize {
    let escapes = regex::Regex::new("\u{1b}\\[[0-9;]*m").unwrap();
    escapes.replace_all(line, "").chars().count()
}

#[test]
fn the_table_fits_80_and_120_column_terminals_with_a_row_per_requirement() {
    let dir = tempfile::tempdir().unwrap();
    for columns in [80, 120] {
        let out = dir.path().join(format!("run-{columns}"));
        let text = run_in_terminal(columns, true, &out);
        let table: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with(['┌', '│', '├', '└']))
            .collect();
        assert!(table.len() > 6, "{columns} columns, no table:\n{text}");
        for line in &table {
            assert!(
                width(line) <= columns,
                "{columns} columns: a {}-wide line:\n{line}\n\n{text}",
                width(line)
            );
        }
        // Failing requirements get a row each, unwrapped; passes are counted per area.
        for id in ["IOP-SRCH-003", "IOP-UKC-001", "IOP-UKC-002"] {
            let rows = table
                .iter()
                .filter(|l| l.starts_with(&format!("│ {id} ")))
                .count();
            assert_eq!(rows, 1, "{columns} columns, {id}:\n{text}");
        }
        assert!(
            !table.iter().any(|l| l.starts_with("│ IOP-SRCH-001 ")),
            "a pass got a row:\n{text}"
        );
        assert!(
            table
                .iter()
                .any(|l| l.contains("UK Core identifiers") && l.contains(" pass")),
            "{text}"
        );
        let last = text.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
        assert!(
            last.starts_with("NON-CONFORMANT: ")
                && last.contains(&format!("open {}/report.html", out.display())),
            "{last}"
        );
        assert!(!text.contains('\u{1b}'), "NO_COLOR is set:\n{text}");
    }
    // Without NO_COLOR a terminal gets the verdicts in colour, and the table still fits.
    let coloured = run_in_terminal(100, false, &dir.path().join("run-colour"));
    assert!(coloured.contains("\u{1b}[31mfail\u{1b}[0m"), "{coloured}");
    let coloured_table: Vec<&str> = coloured
        .lines()
        .filter(|l| l.starts_with(['┌', '│', '├', '└']))
        .collect();
    let widths: std::collections::BTreeSet<usize> =
        coloured_table.iter().map(|l| width(l)).collect();
    assert!(
        widths.iter().all(|w| *w <= 100) && widths.len() <= 2,
        "coloured lines of widths {widths:?}:\n{coloured}"
    );
}

#[test]
fn show_all_gives_every_requirement_a_row_and_a_pipe_gets_the_default_width() {
    let dir = tempfile::tempdir().unwrap();
    let run = common::run(
        dir.path(),
        &["--show", "all", "--requirements", "IOP-SRCH,IOP-UKC"],
        None,
    );
    let stdout = run.stdout();
    assert!(stdout.contains("│ IOP-SRCH-001 "), "{stdout}");
    assert!(
        stdout
            .lines()
            .filter(|l| l.starts_with('│'))
            .all(|l| l.chars().count() <= mts::report::DEFAULT_WIDTH),
        "{stdout}"
    );
    let narrow = common::run_with_env(
        dir.path(),
        &[
            "--requirements",
            "IOP-SRCH,IOP-UKC",
            "--fault",
            "bad-nhs-number",
        ],
        &[("COLUMNS".to_owned(), "72".to_owned())],
    );
    assert!(
        narrow
            .stdout()
            .lines()
            .filter(|l| l.starts_with('│'))
            .all(|l| l.chars().count() <= 72),
        "{}",
        narrow.stdout()
    );
}
