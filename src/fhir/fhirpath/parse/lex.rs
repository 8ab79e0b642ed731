//! The lexer: FHIRPath text to tokens (names, strings, numbers, dates and times, symbols).

use super::ParseError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Identifier(String),
    /// A `\`delimited\`` identifier: never a keyword.
    Quoted(String),
    String(String),
    Number(String),
    DateTime(String),
    Time(String),
    Variable(String),
    Special(&'static str),
    Symbol(&'static str),
}

/// Longest symbols first, so `<=` is not read as `<` then `=`.
const SYMBOLS: [&str; 20] = [
    "<=", ">=", "!=", "!~", "(", ")", "[", "]", "{", "}", ".", ",", "=", "~", "<", ">", "|", "&",
    "+", "-",
];

pub(super) fn lex(text: &str) -> Result<Vec<(usize, Token)>, ParseError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    let fail = |offset: usize, message: &str| ParseError {
        offset,
        message: message.to_owned(),
    };
    while at < bytes.len() {
        let c = bytes[at];
        if c.is_ascii_whitespace() {
            at += 1;
            continue;
        }
        if text[at..].starts_with("//") {
            at = text[at..].find('\n').map_or(bytes.len(), |n| at + n);
            continue;
        }
        if text[at..].starts_with("/*") {
            at = text[at + 2..]
                .find("*/")
                .map(|n| at + 2 + n + 2)
                .ok_or_else(|| fail(at, "unterminated comment"))?;
            continue;
        }
        let start = at;
        if c == b'\'' || c == b'`' {
            let (value, end) = quoted(text, at, c as char)?;
            tokens.push((
                start,
                if c == b'\'' {
                    Token::String(value)
                } else {
                    Token::Quoted(value)
                },
            ));
            at = end;
        } else if c == b'@' {
            let (token, end) =
                date_time_literal(text, at).ok_or_else(|| fail(at, "bad date or time after @"))?;
            tokens.push((start, token));
            at = end;
        } else if c.is_ascii_digit() {
            let mut end = at;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
            if end + 1 < bytes.len() && bytes[end] == b'.' && bytes[end + 1].is_ascii_digit() {
                end += 1;
                while end < bytes.len() && bytes[end].is_ascii_digit() {
                    end += 1;
                }
            }
            tokens.push((start, Token::Number(text[at..end].to_owned())));
            at = end;
        } else if c == b'%' {
            at += 1;
            if bytes.get(at) == Some(&b'`') || bytes.get(at) == Some(&b'\'') {
                let (name, end) = quoted(text, at, bytes[at] as char)?;
                tokens.push((start, Token::Variable(name)));
                at = end;
            } else {
                let end = identifier_end(text, at);
                if end == at {
                    return Err(fail(at, "a variable needs a name after %"));
                }
                tokens.push((start, Token::Variable(text[at..end].to_owned())));
                at = end;
            }
        } else if c == b'$' {
            let end = identifier_end(text, at + 1);
            let special = match &text[at..end] {
                "$this" => "$this",
                "$index" => "$index",
                "$total" => "$total",
                other => return Err(fail(at, &format!("unknown special variable {other}"))),
            };
            tokens.push((start, Token::Special(special)));
            at = end;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let end = identifier_end(text, at);
            tokens.push((start, Token::Identifier(text[at..end].to_owned())));
            at = end;
        } else if let Some(symbol) = SYMBOLS.iter().find(|s| text[at..].starts_with(**s)) {
            tokens.push((start, Token::Symbol(symbol)));
            at += symbol.len();
        } else if c == b'*' || c == b'/' {
            tokens.push((start, Token::Symbol(if c == b'*' { "*" } else { "/" })));
            at += 1;
        } else {
            let shown = text[at..].chars().next().unwrap_or(' ');
            return Err(fail(at, &format!("unexpected character {shown:?}")));
        }
    }
    Ok(tokens)
}

/// A date, date-time or time literal from `at` (the `@`): `@2015`, `@2015-02-04T14:34:28.123+10:00`,
/// `@2015T`, `@T14:34`. Scanned by its grammar, so `@2015.is(Date)` stops at the dot.
fn date_time_literal(text: &str, at: usize) -> Option<(Token, usize)> {
    let bytes = text.as_bytes();
    let mut end = at + 1;
    let digits = |from: usize, count: usize| {
        (bytes.len() >= from + count && bytes[from..from + count].iter().all(u8::is_ascii_digit))
            .then_some(from + count)
    };
    // hh[:mm[:ss[.fff]]] from `from`.
    let clock = |from: usize| -> Option<usize> {
        let mut end = digits(from, 2)?;
        for _ in 0..2 {
            match bytes.get(end) {
                Some(b':') => end = digits(end + 1, 2)?,
                _ => return Some(end),
            }
        }
        if bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
            end += 1;
            while bytes.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
        }
        Some(end)
    };
    if bytes.get(end) == Some(&b'T') {
        let stop = clock(end + 1)?;
        return Some((Token::Time(text[end + 1..stop].to_owned()), stop));
    }
    end = digits(end, 4)?;
    for _ in 0..2 {
        if bytes.get(end) == Some(&b'-') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
            end = digits(end + 1, 2)?;
        } else {
            break;
        }
    }
    if bytes.get(end) != Some(&b'T') {
        return Some((Token::DateTime(text[at + 1..end].to_owned()), end));
    }
    end += 1;
    if bytes.get(end).is_some_and(u8::is_ascii_digit) {
        end = clock(end)?;
        match bytes.get(end) {
            Some(b'Z') => end += 1,
            Some(b'+' | b'-') if digits(end + 1, 2).is_some() => {
                end = digits(end + 1, 2)?;
                if bytes.get(end) == Some(&b':') {
                    end = digits(end + 1, 2)?;
                }
            }
            _ => {}
        }
    }
    Some((Token::DateTime(text[at + 1..end].to_owned()), end))
}

fn identifier_end(text: &str, from: usize) -> usize {
    text[from..]
        .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
        .map_or(text.len(), |n| from + n)
}

/// A `'string'` or `` `identifier` `` from `at` (the opening quote), with its escapes; returns
/// the value and the offset after the closing quote.
fn quoted(text: &str, at: usize, quote: char) -> Result<(String, usize), ParseError> {
    let mut value = String::new();
    let mut chars = text[at + 1..].char_indices();
    while let Some((i, ch)) = chars.next() {
        if ch == quote {
            return Ok((value, at + 1 + i + 1));
        }
        if ch != '\\' {
            value.push(ch);
            continue;
        }
        let Some((_, escaped)) = chars.next() else {
            break;
        };
        match escaped {
            'n' => value.push('\n'),
            'r' => value.push('\r'),
            't' => value.push('\t'),
            'f' => value.push('\u{c}'),
            'u' => {
                let hex: String = (0..4)
                    .filter_map(|_| chars.next().map(|(_, c)| c))
                    .collect();
                let code = u32::from_str_radix(&hex, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| ParseError {
                        offset: at + 1 + i,
                        message: format!("bad unicode escape \\u{hex}"),
                    })?;
                value.push(code);
            }
            other => value.push(other),
        }
    }
    Err(ParseError {
        offset: at,
        message: format!("unterminated {quote}quoted{quote} text"),
    })
}
