//! The scan of the markup that refuses too deep a nesting before roxmltree parses it.

use super::XmlError;

/// Fails when elements nest deeper than `limit`, by a scan of the markup alone: start tags
/// (skipping quoted attribute values), end tags, empty-element tags; comments, CDATA sections
/// and processing instructions are skipped. At anything else the scan stops, as the parser
/// refuses it there (a DOCTYPE, `<!` in content) or sees no more markup (an unterminated
/// construct runs to the end): every element the parser can reach has been counted.
pub(crate) fn nesting_within(xml: &str, limit: usize) -> Result<(), XmlError> {
    let bytes = xml.as_bytes();
    let find = |needle: &[u8], from: usize| {
        memchr::memmem::find(bytes.get(from..)?, needle).map(|at| from + at + needle.len())
    };
    let mut depth = 0usize;
    let mut at = 0;
    while let Some(offset) = memchr::memchr(b'<', &bytes[at..]) {
        let start = at + offset;
        let rest = &bytes[start..];
        let next = if rest.starts_with(b"<!--") {
            find(b"-->", start + 4)
        } else if rest.starts_with(b"<![CDATA[") {
            find(b"]]>", start + 9)
        } else if rest.starts_with(b"<?") {
            find(b"?>", start + 2)
        } else if rest.starts_with(b"<!") {
            None
        } else if rest.starts_with(b"</") {
            depth = depth.saturating_sub(1);
            find(b">", start + 2)
        } else {
            let end = tag_end(bytes, start + 1);
            if end.is_some_and(|end| bytes[end - 2] != b'/') {
                depth += 1;
                if depth > limit {
                    let line = xml[..start].bytes().filter(|b| *b == b'\n').count() + 1;
                    return Err(XmlError::TooDeep {
                        location: format!("line {line}"),
                        limit,
                    });
                }
            }
            end
        };
        let Some(next) = next else {
            break;
        };
        at = next;
    }
    Ok(())
}

/// Just past the `>` of a start tag whose name starts at `from`, skipping quoted values.
fn tag_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        match *bytes.get(at)? {
            b'>' => return Some(at + 1),
            quote @ (b'"' | b'\'') => {
                at += 1 + memchr::memchr(quote, bytes.get(at + 1..)?)? + 1;
            }
            _ => at += 1,
        }
    }
}
