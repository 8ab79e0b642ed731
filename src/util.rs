//! Small helpers shared across modules.

/// The most bytes of one body mts reads or parses (a response, a FHIR XML document), unless
/// configured otherwise.
pub const DEFAULT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// 1-based line and column of a byte offset, for error messages that point into a file.
pub fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |nl| before.len() - nl - 1)
        + 1;
    (line, column)
}

/// Levenshtein distance, for "did you mean" hints.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// The closest candidate within a small edit distance, if any; failing that, the one candidate
/// the word is a clear prefix of (`timeout` → `timeout_seconds`).
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    let close = candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 3.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c);
    close.or_else(|| {
        let mut prefixed = candidates
            .iter()
            .filter(|c| word.len() >= 4 && c.starts_with(word));
        match (prefixed.next(), prefixed.next()) {
            (Some(only), None) => Some(*only),
            _ => None,
        }
    })
}

/// Short single-line preview of a body for messages.
pub fn preview(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.trim();
    if flat.chars().count() <= 160 {
        flat.to_owned()
    } else {
        format!("{}…", flat.chars().take(160).collect::<String>())
    }
}

/// Reads a request's head (up to the blank line) from a loopback test server's connection;
/// `None` when the client went away first. Tests' canned servers share it.
#[cfg(test)]
pub(crate) async fn read_request_head(stream: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt as _;
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
    Some(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based() {
        assert_eq!(line_and_column("ab\ncd", 0), (1, 1));
        assert_eq!(line_and_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_and_column("é", 1), (1, 1), "inside a character");
    }

    #[test]
    fn suggestions_are_close_words_only() {
        assert_eq!(
            did_you_mean("concurency", ["concurrency", "profile"]),
            Some("concurrency")
        );
        assert_eq!(did_you_mean("zzz", ["concurrency", "profile"]), None);
        assert_eq!(
            did_you_mean("timeout", ["timeout_seconds", "profile"]),
            Some("timeout_seconds")
        );
        assert_eq!(
            did_you_mean("time", ["timeout_a", "timeout_b"]),
            None,
            "ambiguous"
        );
    }
}
