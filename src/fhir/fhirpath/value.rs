//! The values a FHIRPath collection holds: nodes of the resource being judged (borrowed, with
//! the FHIR type the definitions give them) and System values made by the expression.

use std::cmp::Ordering;
use std::sync::Arc;

use serde_json::Value;

use crate::fhir::definitions::ElementInfo;

/// The value of a primitive that has only an id or extensions (`"_birthDate": {…}`).
pub static NULL: Value = Value::Null;

#[derive(Clone, Debug)]
pub enum Item<'a> {
    Node(Node<'a>),
    Boolean(bool),
    Integer(i64),
    Decimal(f64),
    String(String),
    /// Dates and times as written, without `@` (`2014-01`, `2014-01-25T14:30:00Z`, `14:30`).
    Date(String),
    DateTime(String),
    Time(String),
    Quantity(f64, String),
}

/// A value inside the resource.
#[derive(Clone, Debug)]
pub struct Node<'a> {
    pub value: &'a Value,
    /// A primitive's `_name` companion (its id and extensions).
    pub companion: Option<&'a Value>,
    /// The FHIR type (`string`, `HumanName`, `Patient`), when the definitions or the data say.
    pub type_name: Option<Arc<str>>,
    /// The element definition the node was reached through, to type its children.
    pub element: Option<Arc<ElementInfo>>,
}

impl<'a> Node<'a> {
    /// A primitive has a JSON scalar (or null, when it has only a companion) as its value.
    pub fn is_primitive(&self) -> bool {
        !self.value.is_object() && !self.value.is_array()
    }
}

/// FHIR types whose value is a Quantity (they derive from it).
const QUANTITY_TYPES: [&str; 7] = [
    "Quantity",
    "Age",
    "Count",
    "Distance",
    "Duration",
    "MoneyQuantity",
    "SimpleQuantity",
];

const INTEGER_TYPES: [&str; 4] = ["integer", "positiveInt", "unsignedInt", "integer64"];

impl<'a> Item<'a> {
    /// The System value of a FHIR primitive or Quantity; other items as they are, complex
    /// nodes as themselves.
    pub fn system(&self) -> Item<'a> {
        let Item::Node(node) = self else {
            return self.clone();
        };
        let type_name = node.type_name.as_deref().unwrap_or("");
        match node.value {
            Value::Bool(b) => Item::Boolean(*b),
            Value::Number(n) => {
                if (INTEGER_TYPES.contains(&type_name) || type_name.is_empty())
                    && let Some(i) = n.as_i64()
                {
                    Item::Integer(i)
                } else {
                    Item::Decimal(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => match type_name {
                "date" => Item::Date(s.clone()),
                "dateTime" | "instant" => {
                    if s.contains('T') {
                        Item::DateTime(s.clone())
                    } else {
                        Item::Date(s.clone())
                    }
                }
                "time" => Item::Time(s.clone()),
                _ => Item::String(s.clone()),
            },
            Value::Object(o) if QUANTITY_TYPES.contains(&type_name) => {
                match o.get("value").and_then(Value::as_f64) {
                    Some(value) => Item::Quantity(
                        value,
                        o.get("code")
                            .or_else(|| o.get("unit"))
                            .and_then(Value::as_str)
                            .unwrap_or("1")
                            .to_owned(),
                    ),
                    None => self.clone(),
                }
            }
            _ => self.clone(),
        }
    }

    /// The System type's name, or the FHIR type's.
    pub fn type_name(&self) -> (&'static str, String) {
        match self {
            Item::Node(node) => ("FHIR", node.type_name.as_deref().unwrap_or("").to_owned()),
            Item::Boolean(_) => ("System", "Boolean".into()),
            Item::Integer(_) => ("System", "Integer".into()),
            Item::Decimal(_) => ("System", "Decimal".into()),
            Item::String(_) => ("System", "String".into()),
            Item::Date(_) => ("System", "Date".into()),
            Item::DateTime(_) => ("System", "DateTime".into()),
            Item::Time(_) => ("System", "Time".into()),
            Item::Quantity(..) => ("System", "Quantity".into()),
        }
    }

    /// The text of a string-like value (FHIR `string`, `code`, `uri`…, or a System String).
    pub fn as_text(&self) -> Option<String> {
        match self.system() {
            Item::String(s) | Item::Date(s) | Item::DateTime(s) | Item::Time(s) => Some(s),
            _ => None,
        }
    }

    /// What `toString()` gives: primitives in their FHIRPath text form.
    pub fn to_text(&self) -> Option<String> {
        // A number in the resource reads as the JSON wrote it (`5`, not `5.0`: cnt-3 asks).
        if let Item::Node(node) = self
            && let Value::Number(number) = node.value
        {
            return Some(number.to_string());
        }
        Some(match self.system() {
            Item::Boolean(b) => b.to_string(),
            Item::Integer(i) => i.to_string(),
            Item::Decimal(d) => decimal_text(d),
            Item::String(s) | Item::Date(s) | Item::DateTime(s) | Item::Time(s) => s,
            Item::Quantity(value, unit) => {
                let number = if value.fract() == 0.0 && value.abs() < 1e15 {
                    format!("{value:.0}")
                } else {
                    value.to_string()
                };
                if crate::fhir::fhirpath::parse::calendar_unit(&unit) == Some(unit.as_str()) {
                    format!("{number} {unit}")
                } else {
                    format!("{number} '{unit}'")
                }
            }
            Item::Node(_) => return None,
        })
    }
}

pub fn decimal_text(d: f64) -> String {
    if d.fract() == 0.0 && d.abs() < 1e15 {
        format!("{d:.1}")
    } else {
        d.to_string()
    }
}

/// `=` between two single items: `None` when the answer is empty (dates of different
/// precision).
pub fn equal(left: &Item<'_>, right: &Item<'_>) -> Option<bool> {
    let (left, right) = (left.system(), right.system());
    match (&left, &right) {
        (Item::Node(a), Item::Node(b)) => Some(a.value == b.value && a.companion == b.companion),
        (Item::Node(_), _) | (_, Item::Node(_)) => Some(false),
        (Item::Boolean(a), Item::Boolean(b)) => Some(a == b),
        (Item::String(a), Item::String(b)) => Some(a == b),
        (Item::Quantity(..), Item::Quantity(..)) => match quantities(&left, &right) {
            Some((a, b)) => Some(numbers_equal(a, b)),
            // Units mts cannot relate (no full UCUM): not the same quantity.
            None => Some(false),
        },
        _ => {
            if let (Some(a), Some(b)) = (number(&left), number(&right)) {
                return Some(numbers_equal(a, b));
            }
            if let (Some(a), Some(b)) = (Moment::of(&left), Moment::of(&right)) {
                return a.compare(&b).map(|o| o == Ordering::Equal);
            }
            Some(false)
        }
    }
}

/// `~`: like `=`, but strings ignore case and surrounding whitespace, and dates of different
/// precision are simply not equivalent.
pub fn equivalent(left: &Item<'_>, right: &Item<'_>) -> bool {
    let (l, r) = (left.system(), right.system());
    match (&l, &r) {
        (Item::String(a), Item::String(b)) => normalise(a) == normalise(b),
        (Item::Decimal(_) | Item::Integer(_), Item::Decimal(_) | Item::Integer(_)) => {
            let (a, b) = (
                number(&l).unwrap_or(f64::NAN),
                number(&r).unwrap_or(f64::NAN),
            );
            // Equal at the precision of the less precise operand.
            let digits = fraction_digits(a).min(fraction_digits(b)) as i32;
            let scale = 10f64.powi(digits);
            (a * scale).round() == (b * scale).round()
        }
        _ => equal(&l, &r).unwrap_or(false),
    }
}

fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn fraction_digits(d: f64) -> usize {
    let text = d.to_string();
    text.split_once('.').map_or(0, |(_, f)| f.len())
}

fn numbers_equal(a: f64, b: f64) -> bool {
    // Decimals are held as doubles: equal when they agree to 1 part in 10^12.
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

/// Two quantities' values in one unit, where mts can relate the units: the same unit, or
/// both among the common UCUM units of mass, length, volume and definite time below.
fn quantities(a: &Item<'_>, b: &Item<'_>) -> Option<(f64, f64)> {
    let (Item::Quantity(x, unit_x), Item::Quantity(y, unit_y)) = (a, b) else {
        return None;
    };
    if unit_x == unit_y {
        return Some((*x, *y));
    }
    let (dimension_x, factor_x) = ucum_scale(calendar_ucum(unit_x))?;
    let (dimension_y, factor_y) = ucum_scale(calendar_ucum(unit_y))?;
    (dimension_x == dimension_y).then_some((x * factor_x, y * factor_y))
}

/// A unit's dimension and its factor to that dimension's base unit.
fn ucum_scale(unit: &str) -> Option<(char, f64)> {
    Some(match unit {
        "kg" => ('M', 1000.0),
        "g" => ('M', 1.0),
        "mg" => ('M', 1e-3),
        "ug" => ('M', 1e-6),
        "ng" => ('M', 1e-9),
        "km" => ('L', 1000.0),
        "m" => ('L', 1.0),
        "cm" => ('L', 0.01),
        "mm" => ('L', 0.001),
        "L" | "l" => ('V', 1.0),
        "dL" | "dl" => ('V', 0.1),
        "mL" | "ml" => ('V', 0.001),
        "wk" => ('T', 604_800.0),
        "d" => ('T', 86_400.0),
        "h" => ('T', 3600.0),
        "min" => ('T', 60.0),
        "s" => ('T', 1.0),
        "ms" => ('T', 0.001),
        _ => return None,
    })
}

/// A calendar duration's UCUM unit, for comparing `1 day` with `1 'd'`.
fn calendar_ucum(unit: &str) -> &str {
    match unit {
        "day" | "days" => "d",
        "hour" | "hours" => "h",
        "minute" | "minutes" => "min",
        "second" | "seconds" => "s",
        "millisecond" | "milliseconds" => "ms",
        "week" | "weeks" => "wk",
        other => other,
    }
}

pub fn number(item: &Item<'_>) -> Option<f64> {
    match item.system() {
        Item::Integer(i) => Some(i as f64),
        Item::Decimal(d) => Some(d),
        _ => None,
    }
}

/// Orders two single items (`<`, `>`…): `Ok(None)` when the answer is empty (dates of
/// different precision), `Err` when they cannot be compared.
pub fn compare(left: &Item<'_>, right: &Item<'_>) -> Result<Option<Ordering>, String> {
    let (l, r) = (left.system(), right.system());
    if let (Some(a), Some(b)) = (number(&l), number(&r)) {
        return Ok(a.partial_cmp(&b));
    }
    match (&l, &r) {
        (Item::String(a), Item::String(b)) => Ok(Some(a.cmp(b))),
        (Item::Quantity(..), Item::Quantity(..)) => {
            Ok(quantities(&l, &r).and_then(|(a, b)| a.partial_cmp(&b)))
        }
        _ => match (Moment::of(&l), Moment::of(&r)) {
            (Some(a), Some(b)) if a.is_time == b.is_time => Ok(a.compare(&b)),
            _ => Err(format!(
                "cannot compare {} with {}",
                l.type_name().1,
                r.type_name().1
            )),
        },
    }
}

/// A date, date-time or time split into its parts, for comparison at a shared precision.
#[derive(Debug, Clone, PartialEq)]
pub struct Moment {
    /// Year, month, day, hour, minute (times: hour, minute), as far as given.
    parts: Vec<i64>,
    seconds: Option<f64>,
    /// The offset from UTC in minutes, when given.
    offset: Option<i64>,
    is_time: bool,
}

impl Moment {
    pub fn of(item: &Item<'_>) -> Option<Moment> {
        match item {
            Item::Date(s) | Item::DateTime(s) => Moment::parse_date_time(s),
            Item::Time(s) => Moment::parse_time(s),
            _ => None,
        }
    }

    pub fn parse_date_time(text: &str) -> Option<Moment> {
        let (date, time) = match text.split_once('T') {
            Some((date, time)) => (date, Some(time)),
            None => (text, None),
        };
        let mut parts = Vec::new();
        for (i, piece) in date.split('-').enumerate() {
            let expected = if i == 0 { 4 } else { 2 };
            if piece.len() != expected || !piece.bytes().all(|b| b.is_ascii_digit()) || i > 2 {
                return None;
            }
            parts.push(piece.parse().ok()?);
        }
        let mut moment = Moment {
            parts,
            seconds: None,
            offset: None,
            is_time: false,
        };
        if let Some(time) = time.filter(|t| !t.is_empty()) {
            if moment.parts.len() != 3 {
                return None;
            }
            let (clock, offset) = split_offset(time)?;
            moment.offset = offset;
            moment.add_clock(clock)?;
        }
        Some(moment)
    }

    pub fn parse_time(text: &str) -> Option<Moment> {
        let mut moment = Moment {
            parts: Vec::new(),
            seconds: None,
            offset: None,
            is_time: true,
        };
        moment.add_clock(text)?;
        Some(moment)
    }

    fn add_clock(&mut self, clock: &str) -> Option<()> {
        let mut pieces = clock.split(':');
        for _ in 0..2 {
            if let Some(piece) = pieces.next() {
                if piece.len() != 2 || !piece.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                self.parts.push(piece.parse().ok()?);
            }
        }
        if let Some(seconds) = pieces.next() {
            self.seconds = Some(seconds.parse().ok()?);
        }
        if pieces.next().is_some() {
            return None;
        }
        Some(())
    }

    /// The precision: 1 year … 5 minute, 6 seconds (with or without fractions).
    fn precision(&self) -> usize {
        self.parts.len() + usize::from(self.seconds.is_some())
    }

    /// Shifts to UTC when an offset is known and the hour is given.
    fn in_utc(&self) -> Moment {
        let (Some(offset), false) = (self.offset, self.is_time) else {
            return self.clone();
        };
        if self.parts.len() < 4 || offset == 0 {
            return self.clone();
        }
        let minute = self.parts.get(4).copied().unwrap_or(0);
        let Some(local) = chrono::NaiveDate::from_ymd_opt(
            self.parts[0] as i32,
            self.parts[1] as u32,
            self.parts[2] as u32,
        )
        .and_then(|d| d.and_hms_opt(self.parts[3] as u32, minute as u32, 0)) else {
            return self.clone();
        };
        let Some(utc) = local.checked_sub_signed(chrono::Duration::minutes(offset)) else {
            return self.clone();
        };
        use chrono::{Datelike, Timelike};
        let mut parts = vec![
            i64::from(utc.year()),
            i64::from(utc.month()),
            i64::from(utc.day()),
            i64::from(utc.hour()),
            i64::from(utc.minute()),
        ];
        parts.truncate(self.parts.len());
        Moment {
            parts,
            offset: Some(0),
            ..self.clone()
        }
    }

    /// Compares part by part while both have the part; different precision with equal shared
    /// parts is unknown (`None`).
    pub fn compare(&self, other: &Moment) -> Option<Ordering> {
        // One with a time zone and one without cannot be placed against each other.
        if self.offset.is_some() != other.offset.is_some()
            && self.parts.len() > 3
            && other.parts.len() > 3
        {
            return None;
        }
        // Of different precisions, the shared parts are compared as written, as HL7's engine
        // does: shifting only the one with a time would move it across midnight alone.
        let (a, b) = if self.precision() == other.precision() {
            (self.in_utc(), other.in_utc())
        } else {
            (self.clone(), other.clone())
        };
        for (x, y) in a.parts.iter().zip(&b.parts) {
            match x.cmp(y) {
                Ordering::Equal => {}
                unequal => return Some(unequal),
            }
        }
        if a.precision() != b.precision() {
            return None;
        }
        match (a.seconds, b.seconds) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => Some(Ordering::Equal),
        }
    }
}

/// A date, date-time or time moved by a time-valued quantity (`@1973-12-25 + 7 days`), kept
/// at its own precision. Calendar units move by whole units; UCUM's `a` and `mo` are not
/// calendar years and months, so they are refused (`None`).
pub fn shift(item: &Item<'_>, amount: f64, unit: &str) -> Option<Item<'static>> {
    use chrono::{Datelike, Months, NaiveDate, NaiveTime, Timelike};
    let whole = amount.trunc() as i64;
    let (months, milliseconds) = match unit {
        "year" | "years" => (whole.checked_mul(12)?, 0),
        "month" | "months" => (whole, 0),
        "week" | "weeks" | "wk" => (0, whole.checked_mul(7 * 86_400_000)?),
        "day" | "days" | "d" => (0, whole.checked_mul(86_400_000)?),
        "hour" | "hours" | "h" => (0, whole.checked_mul(3_600_000)?),
        "minute" | "minutes" | "min" => (0, whole.checked_mul(60_000)?),
        "second" | "seconds" | "s" => (0, whole.checked_mul(1000)?),
        "millisecond" | "milliseconds" | "ms" => (0, amount.round() as i64),
        _ => return None,
    };
    let (text, is_time) = match item {
        Item::Date(s) | Item::DateTime(s) => (s.as_str(), false),
        Item::Time(s) => (s.as_str(), true),
        _ => return None,
    };
    let moment = if is_time {
        Moment::parse_time(text)?
    } else {
        Moment::parse_date_time(text)?
    };
    let part = |i: usize, default: i64| moment.parts.get(i).copied().unwrap_or(default);
    let (clock_from, date) = if is_time {
        (0, NaiveDate::from_ymd_opt(2000, 1, 1)?)
    } else {
        (
            3,
            NaiveDate::from_ymd_opt(part(0, 1) as i32, part(1, 1) as u32, part(2, 1) as u32)?,
        )
    };
    let seconds = moment.seconds.unwrap_or(0.0);
    let time = NaiveTime::from_hms_milli_opt(
        part(clock_from, 0) as u32,
        part(clock_from + 1, 0) as u32,
        seconds.trunc() as u32,
        ((seconds.fract() * 1000.0).round() as u32).min(999),
    )?;
    let mut moved = date.and_time(time);
    moved = if months >= 0 {
        moved.checked_add_months(Months::new(u32::try_from(months).ok()?))?
    } else {
        moved.checked_sub_months(Months::new(u32::try_from(-months).ok()?))?
    };
    moved = moved.checked_add_signed(chrono::Duration::milliseconds(milliseconds))?;
    // Written back at the precision it came with, with its own zone suffix.
    let mut out = String::new();
    if !is_time {
        out.push_str(&format!("{:04}", moved.year()));
        if moment.parts.len() > 1 {
            out.push_str(&format!("-{:02}", moved.month()));
        }
        if moment.parts.len() > 2 {
            out.push_str(&format!("-{:02}", moved.day()));
        }
    }
    let clock_parts = moment.parts.len().saturating_sub(clock_from);
    if clock_parts > 0 {
        if !is_time {
            out.push('T');
        }
        out.push_str(&format!("{:02}", moved.hour()));
        if clock_parts > 1 {
            out.push_str(&format!(":{:02}", moved.minute()));
        }
        if moment.seconds.is_some() {
            out.push_str(&format!(":{:02}", moved.second()));
            if text.contains('.') {
                out.push_str(&format!(".{:03}", moved.nanosecond() / 1_000_000));
            }
        }
        if !is_time {
            let clock = text.split_once('T').map_or("", |(_, c)| c);
            if let Some(at) = clock.find(['Z', '+', '-']) {
                out.push_str(&clock[at..]);
            }
        }
    }
    Some(match item {
        Item::Date(_) => Item::Date(out),
        Item::DateTime(_) => Item::DateTime(out),
        _ => Item::Time(out),
    })
}

/// Splits `14:30:00+01:00` into the clock and the offset in minutes.
fn split_offset(time: &str) -> Option<(&str, Option<i64>)> {
    if let Some(clock) = time.strip_suffix('Z') {
        return Some((clock, Some(0)));
    }
    match time.rfind(['+', '-']) {
        Some(at) => {
            let (clock, zone) = time.split_at(at);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (hours, minutes) = zone[1..].split_once(':')?;
            // Real offsets lie within ±14:00; anything else is no offset mts will compute with.
            let (hours, minutes) = (hours.parse::<i64>().ok()?, minutes.parse::<i64>().ok()?);
            if !(0..=14).contains(&hours) || !(0..60).contains(&minutes) {
                return None;
            }
            Some((clock, Some(sign * (hours * 60 + minutes))))
        }
        None => Some((time, None)),
    }
}

#[cfg(test)]
mod tests;
