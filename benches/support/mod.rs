//! What the benches over UK Core's examples share: their command line and the example files.

use std::path::{Path, PathBuf};

/// `-- [DIR] [ROUNDS] [WARMUP]`: the examples' folder (default `../shared/data/uk-core/examples`)
/// and the XML files in it, in name order; `None` (said on stderr) when the folder is absent.
pub struct Examples {
    pub files: Vec<PathBuf>,
    pub rounds: usize,
    pub warmup: usize,
}

pub fn examples(default_rounds: usize, default_warmup: usize) -> Option<Examples> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let dir = args.first().map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/uk-core/examples"),
        PathBuf::from,
    );
    let rounds = args
        .get(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(default_rounds);
    let warmup = args
        .get(2)
        .and_then(|r| r.parse().ok())
        .unwrap_or(default_warmup);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipped: no examples at {}", dir.display());
        return None;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    Some(Examples {
        files,
        rounds,
        warmup,
    })
}
