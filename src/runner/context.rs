use std::sync::Mutex;

use crate::catalogue::Profile;
use crate::config::TestData;
use crate::http::HttpClient;
use crate::report::ScenarioResult;

/// What every scenario of one run shares.
#[derive(Debug)]
pub struct RunContext {
    pub http: HttpClient,
    pub data: TestData,
    pub profile: Profile,
    pub allow_writes: bool,
    pub(crate) results: Mutex<Vec<ScenarioResult>>,
}

impl RunContext {
    pub fn new(http: HttpClient, data: TestData, profile: Profile, allow_writes: bool) -> Self {
        Self {
            http,
            data,
            profile,
            allow_writes,
            results: Mutex::default(),
        }
    }

    pub(crate) fn record(&self, result: ScenarioResult) {
        if let Ok(mut results) = self.results.lock() {
            results.push(result);
        }
    }

    pub(crate) fn take_results(&self) -> Vec<ScenarioResult> {
        self.results
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }
}
