//! The shipped examples stay valid: the CI workflow and the Kubernetes Job parse as YAML with
//! the keys their tools require, and every `mts` flag they use exists.

use std::path::Path;

fn yaml(path: &str) -> serde_yaml_ng::Value {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

#[test]
fn the_github_actions_workflow_is_a_workflow() {
    let workflow = yaml("examples/github-actions/mts.yml");
    assert!(workflow["name"].is_string());
    assert!(!workflow["on"].is_null(), "a trigger");
    let jobs = workflow["jobs"].as_mapping().expect("jobs");
    for (name, job) in jobs {
        assert!(job["runs-on"].is_string(), "{name:?} has runs-on");
        let steps = job["steps"].as_sequence().expect("steps");
        for step in steps {
            assert!(
                step["uses"].is_string() ^ step["run"].is_string(),
                "{name:?}: each step either uses an action or runs a command: {step:?}"
            );
        }
    }
    assert!(jobs[&serde_yaml_ng::Value::from("regression")]["needs"].is_string());
    // Sharded runs are merged before anything is judged.
    let shards = &jobs[&serde_yaml_ng::Value::from("shard")];
    assert!(shards["strategy"]["matrix"]["shard"].is_sequence());
    assert_eq!(jobs[&serde_yaml_ng::Value::from("merge")]["needs"], "shard");
}

#[test]
fn the_kubernetes_job_is_a_job() {
    let job = yaml("examples/kubernetes/mts-job.yaml");
    assert_eq!(job["apiVersion"], "batch/v1");
    assert_eq!(job["kind"], "Job");
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    assert!(container["image"].is_string());
    assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Never");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    let script = container["args"][0].as_str().unwrap();
    assert!(script.starts_with("exec mts run"), "{script}");
    // The shard comes from the pod's index, 1-based, out of the completions.
    let completions = job["spec"]["completions"].as_u64().unwrap();
    assert!(
        script.contains(&format!(
            "--shard=$((JOB_COMPLETION_INDEX + 1))/{completions}"
        )),
        "{script}"
    );
}

#[test]
fn every_mts_flag_the_examples_use_exists() {
    use clap::CommandFactory as _;
    let command = mts::cli::Cli::command();
    let run = command.find_subcommand("run").unwrap();
    let known: Vec<String> = run
        .get_arguments()
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect();
    for path in [
        "examples/github-actions/mts.yml",
        "examples/kubernetes/mts-job.yaml",
    ] {
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
        for line in text.lines().filter(|l| {
            l.contains("mts run")
                || l.trim_start().starts_with("- --")
                || l.trim_start().starts_with("--")
        }) {
            for flag in line
                .split_whitespace()
                .filter(|w| w.starts_with("--") || w.starts_with("- --"))
            {
                let flag = flag.trim_start_matches("- ").split('=').next().unwrap();
                assert!(
                    known.iter().any(|k| k == flag),
                    "{path}: unknown flag {flag}"
                );
            }
        }
    }
}
