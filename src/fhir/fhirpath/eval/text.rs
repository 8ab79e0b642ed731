//! Text helpers: quantities from text, encode/decode/escape/unescape, cached regexes.

use std::sync::Arc;

use super::{EvalError, Result};
use crate::fhir::fhirpath::value::Item;

/// `'4 \'mg\''`, `'1 day'` or `'7'` as a Quantity.
pub(super) fn quantity_from_text(text: &str) -> Option<Item<'static>> {
    let (number, unit) = match text.trim().split_once(' ') {
        Some((number, unit)) => (number, unit.trim()),
        None => (text.trim(), "'1'"),
    };
    let value: f64 = number.parse().ok()?;
    let unit = match unit.strip_prefix('\'').and_then(|u| u.strip_suffix('\'')) {
        Some(ucum) => ucum.to_owned(),
        None => crate::fhir::fhirpath::parse::calendar_unit(unit)?.to_owned(),
    };
    Some(Item::Quantity(value, unit))
}

/// `encode`/`decode` (base64, urlbase64, hex) and `escape`/`unescape` (html, json).
pub(super) fn transcode(function: &str, format: &str, text: &str) -> Result<Option<String>> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    let decoded = |bytes: Vec<u8>| String::from_utf8(bytes).ok();
    Ok(match (function, format) {
        ("encode", "base64") => Some(STANDARD.encode(text)),
        ("encode", "urlbase64") => Some(URL_SAFE.encode(text)),
        ("encode", "hex") => Some(text.bytes().map(|b| format!("{b:02x}")).collect()),
        ("decode", "base64") => STANDARD.decode(text).ok().and_then(decoded),
        ("decode", "urlbase64") => URL_SAFE.decode(text).ok().and_then(decoded),
        ("decode", "hex") => (0..text.len())
            .step_by(2)
            .map(|i| {
                text.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .and_then(decoded),
        ("escape", "html") => Some(
            text.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\'', "&#39;"),
        ),
        ("unescape", "html") => Some(
            text.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        ),
        ("escape", "json") => {
            let quoted = serde_json::to_string(text).unwrap_or_default();
            Some(quoted[1..quoted.len().saturating_sub(1)].to_owned())
        }
        ("unescape", "json") => {
            let mut out = String::with_capacity(text.len());
            let mut chars = text.chars();
            while let Some(c) = chars.next() {
                if c != '\\' {
                    out.push(c);
                    continue;
                }
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some(other) => out.push(other),
                    None => out.push('\\'),
                }
            }
            Some(out)
        }
        _ => return Err(EvalError::Unsupported(format!("{function}('{format}')"))),
    })
}

/// Compiled regular expressions, kept: the same few patterns run for every element.
pub(super) fn compile_regex(pattern: &str) -> Result<Arc<regex::Regex>> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    // Shared, not cloned: a cloned `Regex` starts a cache of its own on every use.
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(found) = cache.lock().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(found);
    }
    let compiled = regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map(Arc::new)
        .map_err(|e| EvalError::Failed(format!("bad regular expression: {e}")))?;
    if let Ok(mut cache) = cache.lock()
        && cache.len() < 1024
    {
        cache.insert(pattern.to_owned(), compiled.clone());
    }
    Ok(compiled)
}
