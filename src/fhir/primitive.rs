//! The FHIR R4 schema's string patterns, checked by hand-written matchers instead of a regex
//! engine. Patterns are a third of validation time; the schema states them as ECMA-262 regular
//! expressions, and each matcher here accepts exactly the strings its pattern does (a test
//! compares them with the regex engine on generated strings; so does a fuzz target).
//!
//! The schema keeps each pattern's text: `FhirSchema` moves known patterns to the `PATTERN_KEYWORD`
//! keyword, whose validator is picked by that text, so errors still quote it. Patterns not listed
//! here stay with the regex engine.

use serde_json::{Map, Value};

/// The keyword the schema's known `pattern`s are moved to.
pub const PATTERN_KEYWORD: &str = "x-mts-fhir-pattern";

/// A FHIR primitive whose lexical form the schema restricts with a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Primitive {
    /// `string`, `markdown`: `^[ \r\n\t\S]+$`.
    Text,
    /// `uri`, `url`, `canonical`: `^\S*$`.
    Uri,
    Code,
    Id,
    Oid,
    Uuid,
    Base64Binary,
    Date,
    DateTime,
    Instant,
    Time,
}

const PATTERNS: &[(&str, Primitive)] = &[
    (r"^[ \r\n\t\S]+$", Primitive::Text),
    (r"^\S*$", Primitive::Uri),
    (r"^[^\s]+(\s[^\s]+)*$", Primitive::Code),
    (r"^[A-Za-z0-9\-\.]{1,64}$", Primitive::Id),
    (r"^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$", Primitive::Oid),
    (
        r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
        Primitive::Uuid,
    ),
    (r"^(\s*([0-9a-zA-Z\+/=]){4}\s*)+$", Primitive::Base64Binary),
    (
        r"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$",
        Primitive::Date,
    ),
    (
        r"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$",
        Primitive::DateTime,
    ),
    (
        r"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$",
        Primitive::Instant,
    ),
    (
        r"^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?$",
        Primitive::Time,
    ),
];

impl Primitive {
    /// The primitive a schema pattern describes, if it is one of the FHIR R4 patterns.
    pub fn from_pattern(pattern: &str) -> Option<Self> {
        PATTERNS
            .iter()
            .find(|(text, _)| *text == pattern)
            .map(|(_, primitive)| *primitive)
    }

    /// Every pattern with a matcher, for tests.
    pub fn patterns() -> impl Iterator<Item = (&'static str, Primitive)> {
        PATTERNS.iter().copied()
    }

    /// Whether `text` matches the pattern, with ECMA-262 semantics.
    pub fn matches(self, text: &str) -> bool {
        match self {
            // Long texts are mostly ASCII: a byte scan (vectorised) before any decoding.
            Primitive::Text if text.is_ascii() => {
                !text.is_empty() && !text.bytes().any(|b| b == 0x0b || b == 0x0c)
            }
            Primitive::Text => text
                .chars()
                .all(|c| matches!(c, ' ' | '\r' | '\n' | '\t') || !is_ecma_whitespace(c)),
            Primitive::Uri if text.is_ascii() => {
                !text.bytes().any(|b| matches!(b, b'\t'..=b'\r' | b' '))
            }
            Primitive::Uri => !text.chars().any(is_ecma_whitespace),
            Primitive::Code => is_code(text),
            Primitive::Id => {
                (1..=64).contains(&text.len())
                    && text
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            }
            Primitive::Oid => is_oid(text),
            Primitive::Uuid => is_uuid(text),
            Primitive::Base64Binary => is_base64(text),
            Primitive::Date => {
                let mut cursor = Cursor::new(text);
                cursor.date(false) && cursor.at_end()
            }
            Primitive::DateTime => {
                let mut cursor = Cursor::new(text);
                cursor.date(false)
                    && (cursor.at_end()
                        || (cursor.day_was_read && cursor.eat(b'T') && cursor.time_with_zone()))
                    && cursor.at_end()
            }
            Primitive::Instant => {
                let mut cursor = Cursor::new(text);
                cursor.date(true) && cursor.eat(b'T') && cursor.time_with_zone() && cursor.at_end()
            }
            Primitive::Time => {
                let mut cursor = Cursor::new(text);
                cursor.time() && cursor.at_end()
            }
        }
    }
}

/// ECMA-262 `\s`: WhiteSpace and LineTerminator (ECMA-262 §22.2.2.9, §12.2, §12.3).
pub fn is_ecma_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | ' '
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
            | '\u{feff}'
    )
}

/// `^[^\s]+(\s[^\s]+)*$`: words separated by single whitespace characters.
fn is_code(text: &str) -> bool {
    let mut after_space = true;
    for c in text.chars() {
        let space = is_ecma_whitespace(c);
        if space && after_space {
            return false;
        }
        after_space = space;
    }
    !after_space
}

/// `^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$`.
fn is_oid(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("urn:oid:") else {
        return false;
    };
    let Some(arcs) = rest.strip_prefix(['0', '1', '2']) else {
        return false;
    };
    let Some(arcs) = arcs.strip_prefix('.') else {
        return false;
    };
    arcs.split('.').all(|arc| {
        !arc.is_empty()
            && arc.bytes().all(|b| b.is_ascii_digit())
            && (arc == "0" || !arc.starts_with('0'))
    })
}

/// `^urn:uuid:` and a lower-case 8-4-4-4-12 hexadecimal UUID.
fn is_uuid(text: &str) -> bool {
    let Some(uuid) = text.strip_prefix("urn:uuid:") else {
        return false;
    };
    uuid.len() == 36
        && uuid.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// `^(\s*([0-9a-zA-Z\+/=]){4}\s*)+$`: groups of four alphabet characters, whitespace allowed
/// only between groups, at least one group.
fn is_base64(text: &str) -> bool {
    let mut run = 0usize;
    let mut groups = 0usize;
    for c in text.chars() {
        if is_ecma_whitespace(c) {
            if !run.is_multiple_of(4) {
                return false;
            }
            groups += run / 4;
            run = 0;
        } else if c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=') {
            run += 1;
        } else {
            return false;
        }
    }
    run.is_multiple_of(4) && groups + run / 4 > 0
}

/// Reads the date and time grammar of the FHIR patterns, byte by byte.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
    day_was_read: bool,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            bytes: text.as_bytes(),
            at: 0,
            day_was_read: false,
        }
    }

    fn at_end(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let matched = self.bytes.get(self.at) == Some(&byte);
        self.at += usize::from(matched);
        matched
    }

    /// `count` ASCII digits, as a number.
    fn digits(&mut self, count: usize) -> Option<u32> {
        let end = self.at.checked_add(count)?;
        let slice = self.bytes.get(self.at..end)?;
        if !slice.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.at = end;
        Some(slice.iter().fold(0, |n, b| n * 10 + u32::from(b - b'0')))
    }

    /// A two-digit number in `range`.
    fn two_digits(&mut self, range: std::ops::RangeInclusive<u32>) -> bool {
        let start = self.at;
        match self.digits(2) {
            Some(n) if range.contains(&n) => true,
            _ => {
                self.at = start;
                false
            }
        }
    }

    /// `YYYY(-MM(-DD)?)?` with a year other than 0000; `full` requires month and day.
    fn date(&mut self, full: bool) -> bool {
        if !matches!(self.digits(4), Some(year) if year > 0) {
            return false;
        }
        if self.at_end() && !full {
            return true;
        }
        if !(self.eat(b'-') && self.two_digits(1..=12)) {
            return false;
        }
        if (self.at_end() || self.bytes.get(self.at) != Some(&b'-')) && !full {
            return true;
        }
        self.day_was_read = self.eat(b'-') && self.two_digits(1..=31);
        self.day_was_read
    }

    /// `hh:mm:ss(.f+)?`, with a leap second allowed.
    fn time(&mut self) -> bool {
        let clock = self.two_digits(0..=23)
            && self.eat(b':')
            && self.two_digits(0..=59)
            && self.eat(b':')
            && self.two_digits(0..=60);
        if !clock {
            return false;
        }
        if self.eat(b'.') {
            let start = self.at;
            while self.bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
                self.at += 1;
            }
            return self.at > start;
        }
        true
    }

    /// A time, then `Z` or an offset from -14:00 to +14:00 (`hh` up to 13 with any minutes).
    fn time_with_zone(&mut self) -> bool {
        if !self.time() {
            return false;
        }
        if self.eat(b'Z') {
            return true;
        }
        if !(self.eat(b'+') || self.eat(b'-')) {
            return false;
        }
        let start = self.at;
        if self.two_digits(0..=13) && self.eat(b':') && self.two_digits(0..=59) {
            return true;
        }
        self.at = start;
        self.two_digits(14..=14) && self.eat(b':') && self.two_digits(0..=0)
    }
}

/// Moves every known FHIR pattern in `schema` from `pattern` to `PATTERN_KEYWORD`, where the
/// matchers above check it. A property named `pattern` holds an object, never a known pattern
/// string, so only keywords move.
pub fn move_known_patterns(schema: &mut Value) -> usize {
    let mut moved = 0;
    let mut stack = vec![schema];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                moved += usize::from(move_pattern(map));
                stack.extend(map.values_mut());
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            _ => {}
        }
    }
    moved
}

fn move_pattern(map: &mut Map<String, Value>) -> bool {
    let known = map
        .get("pattern")
        .and_then(Value::as_str)
        .is_some_and(|p| Primitive::from_pattern(p).is_some());
    if known && let Some(pattern) = map.remove("pattern") {
        map.insert(PATTERN_KEYWORD.to_owned(), pattern);
    }
    known
}

/// The validator of `PATTERN_KEYWORD`: the pattern's matcher, with the message the regex
/// engine would give.
pub struct PatternKeyword {
    primitive: Primitive,
    pattern: String,
}

impl PatternKeyword {
    pub fn new(pattern: &Value) -> Option<Self> {
        let pattern = pattern.as_str()?;
        Some(Self {
            primitive: Primitive::from_pattern(pattern)?,
            pattern: pattern.to_owned(),
        })
    }
}

impl<'i> jsonschema::Keyword<'i> for PatternKeyword {
    fn validate(&self, instance: &'i Value) -> Result<(), jsonschema::ValidationError<'i>> {
        if self.is_valid(instance) {
            return Ok(());
        }
        Err(jsonschema::ValidationError::custom(format!(
            "{instance} does not match \"{}\"",
            self.pattern
        )))
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        instance
            .as_str()
            .is_none_or(|text| self.primitive.matches(text))
    }

    /// As the default, without boxing a one-element iterator for every valid string (an empty
    /// iterator is zero-sized, so its box allocates nothing).
    fn iter_errors(
        &self,
        instance: &'i Value,
    ) -> Box<dyn Iterator<Item = jsonschema::ValidationError<'i>> + 'i> {
        match self.validate(instance) {
            Ok(()) => Box::new(std::iter::empty()),
            Err(error) => Box::new(std::iter::once(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(primitive: Primitive, good: &[&str], bad: &[&str]) {
        for text in good {
            assert!(
                primitive.matches(text),
                "{primitive:?} should accept {text:?}"
            );
        }
        for text in bad {
            assert!(
                !primitive.matches(text),
                "{primitive:?} should refuse {text:?}"
            );
        }
    }

    #[test]
    fn dates_and_times_follow_the_fhir_grammar() {
        accepts(
            Primitive::Date,
            &["2024", "2024-02", "2024-02-30", "0001", "1000-12-31"],
            &[
                "0000",
                "2024-13",
                "2024-00",
                "2024-01-32",
                "2024-1",
                "2024-",
                "24",
                "2024-01-01T",
            ],
        );
        accepts(
            Primitive::DateTime,
            &[
                "2024",
                "2024-02",
                "2024-02-29",
                "2024-02-29T23:59:60Z",
                "2024-02-29T00:00:00.123+14:00",
                "2024-02-29T00:00:00-13:59",
            ],
            &[
                "2024-02T10:00:00Z",
                "2024-02-29T10:00:00",
                "2024-02-29T10:00Z",
                "2024-02-29T24:00:00Z",
                "2024-02-29T10:00:00+14:01",
                "2024-02-29T10:00:00.Z",
                "2024-02-29T10:00:00+1400",
            ],
        );
        accepts(
            Primitive::Instant,
            &["2024-02-29T10:00:00Z", "2024-02-29T10:00:00.5+01:00"],
            &["2024-02-29", "2024-02-29T10:00:00", "2024T10:00:00Z"],
        );
        accepts(
            Primitive::Time,
            &["00:00:00", "23:59:60.000"],
            &["24:00:00", "1:00:00", "10:00", "10:00:00Z"],
        );
    }

    #[test]
    fn text_kinds_follow_ecma_whitespace() {
        accepts(
            Primitive::Text,
            &["a", " ", "line\r\nbreak\t", "\u{85}"],
            &["", "\u{a0}", "no\u{feff}bom", "\u{2028}", "\u{b}"],
        );
        accepts(
            Primitive::Uri,
            &["", "urn:x", "\u{85}"],
            &["a b", "\u{3000}"],
        );
        accepts(
            Primitive::Code,
            &["a", "a b", "a\tb c"],
            &["", " a", "a ", "a  b", "a\u{a0}"],
        );
        accepts(
            Primitive::Base64Binary,
            &["AAAA", " AAAA BBBB ", "AAAABBBB", "AB=="],
            &["", "    ", "AAA", "AA AA", "AAAA!", "AAAAA"],
        );
        accepts(
            Primitive::Oid,
            &["urn:oid:1.2", "urn:oid:2.16.840.1.113883"],
            &[
                "urn:oid:3.1",
                "urn:oid:1",
                "urn:oid:1.02",
                "urn:oid:1..2",
                "urn:oid:1.2.",
            ],
        );
        accepts(
            Primitive::Uuid,
            &["urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8"],
            &[
                "urn:uuid:6BA7B810-9dad-11d1-80b4-00c04fd430c8",
                "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
            ],
        );
        accepts(
            Primitive::Id,
            &["a", "A-1.b", &"x".repeat(64)],
            &["", "a_b", &"x".repeat(65), "é"],
        );
    }

    /// A few strings in every shape the patterns care about, mutated at random: each matcher must
    /// agree with the regex engine the schema's patterns were written for.
    #[test]
    fn matchers_agree_with_the_regex_engine() {
        let seeds = [
            "2024-02-29T23:59:60.123+14:00",
            "1999-12-31T00:00:00Z",
            "0010-01",
            "12:30:59.5",
            "urn:oid:1.2.840.10008",
            "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8",
            "QUJD REVG\n",
            "final amended",
            "Patient-1.x",
            "https://example.org/a b",
            "text\u{a0}\u{2028}\u{feff}\u{85}é😀",
        ];
        let alphabet: Vec<char> =
            "0123456789-:.TZ+ =/aAfFzé😀\t\n\r\u{b}\u{c}\u{a0}\u{85}\u{feff}\u{2028}\u{3000}urn:oid:"
                .chars()
                .collect();
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut random = move |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % bound as u64).unwrap_or(0)
        };
        let mut samples: Vec<String> = seeds.iter().map(|s| (*s).to_owned()).collect();
        for _ in 0..20_000 {
            let mut chars: Vec<char> = seeds[random(seeds.len())].chars().collect();
            for _ in 0..=random(3) {
                let at = random(chars.len() + 1);
                match random(4) {
                    0 => chars.insert(at, alphabet[random(alphabet.len())]),
                    1 if at < chars.len() => {
                        chars.remove(at);
                    }
                    // Digits become other digits: ranges (hours, months, offsets) are crossed.
                    2 if chars.get(at).is_some_and(char::is_ascii_digit) => {
                        chars[at] = char::from(b'0' + u8::try_from(random(10)).unwrap_or(0));
                    }
                    _ if at < chars.len() => chars[at] = alphabet[random(alphabet.len())],
                    _ => {}
                }
            }
            samples.push(chars.into_iter().collect());
        }
        for (pattern, primitive) in Primitive::patterns() {
            let regex = jsonschema::validator_for(&serde_json::json!({ "pattern": pattern }))
                .expect("the FHIR pattern compiles");
            let mut accepted = 0;
            for text in &samples {
                let expected = regex.is_valid(&Value::String(text.clone()));
                assert_eq!(
                    primitive.matches(text),
                    expected,
                    "{primitive:?} on {text:?} (pattern {pattern})"
                );
                accepted += usize::from(expected);
            }
            // The samples must reach both sides of every pattern, or the test proves little.
            assert!(
                accepted > 0 && accepted < samples.len(),
                "{primitive:?}: {accepted}"
            );
        }
    }

    #[test]
    fn only_known_pattern_keywords_move() {
        let mut schema = serde_json::json!({
            "definitions": {
                "id": {"pattern": "^[A-Za-z0-9\\-\\.]{1,64}$", "type": "string"},
                "boolean": {"pattern": "^true|false$"},
                "Thing": {"properties": {"pattern": {"$ref": "#/definitions/id"}}}
            }
        });
        assert_eq!(move_known_patterns(&mut schema), 1);
        assert_eq!(
            schema["definitions"]["id"][PATTERN_KEYWORD],
            "^[A-Za-z0-9\\-\\.]{1,64}$"
        );
        assert_eq!(schema["definitions"]["boolean"]["pattern"], "^true|false$");
        assert!(schema["definitions"]["Thing"]["properties"]["pattern"].is_object());
    }
}
