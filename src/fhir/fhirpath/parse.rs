//! FHIRPath text to a syntax tree (FHIRPath N1, the grammar FHIR R4 uses), with the
//! operator precedence of the specification's §10.

use std::fmt;

/// A literal written in the expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Boolean(bool),
    String(String),
    Integer(i64),
    Decimal(f64),
    /// `@2014-01-25`, kept as written without the `@`.
    Date(String),
    DateTime(String),
    /// `@T14:30`, without the `@T`.
    Time(String),
    Quantity(f64, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Multiply,
    Divide,
    Div,
    Mod,
    Add,
    Subtract,
    Concatenate,
    Union,
    Less,
    Greater,
    LessOrEqual,
    GreaterOrEqual,
    Equal,
    Equivalent,
    NotEqual,
    NotEquivalent,
    In,
    Contains,
    And,
    Or,
    Xor,
    Implies,
}

/// `is` and `as` written as operators (`value is Quantity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeOp {
    Is,
    As,
}

/// A type name with its optional namespace (`FHIR.Quantity`, `System.String`, `Patient`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeSpecifier {
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for TypeSpecifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{namespace}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `{}`
    Empty,
    Literal(Literal),
    This,
    Index,
    Total,
    /// `%resource`, `%ucum`, `%\`vs-name\``.
    Variable(String),
    /// `name` on the input (`None`: the expression's own input) or on an expression.
    Member(Option<Box<Expr>>, String),
    /// `name(args)` likewise.
    Call(Option<Box<Expr>>, String, Vec<Expr>),
    Indexer(Box<Expr>, Box<Expr>),
    Negate(Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    Type(TypeOp, Box<Expr>, TypeSpecifier),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for ParseError {}

#[derive(Debug, Clone, PartialEq)]
enum Token {
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

/// The deepest nesting accepted: expressions in conformance resources nest a dozen deep; the
/// limit keeps a hostile expression from exhausting the stack.
const MAX_DEPTH: usize = 100;

/// The most tokens an expression may have. A syntax tree is never deeper than its token count,
/// and evaluating (or dropping) it recurses once per level: a left-nested chain such as
/// `a.a.a…` or `1 + 1 + …` is as deep as it is long, so length is what bounds the stack. R4
/// core's longest invariant (dom-3) has 121 tokens.
const MAX_TOKENS: usize = 400;

fn lex(text: &str) -> Result<Vec<(usize, Token)>, ParseError> {
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

/// Parses a whole FHIRPath expression.
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    let tokens = lex(text)?;
    if tokens.len() > MAX_TOKENS {
        return Err(ParseError {
            offset: tokens[MAX_TOKENS].0,
            message: format!("longer than {MAX_TOKENS} tokens"),
        });
    }
    let mut parser = Parser {
        tokens,
        at: 0,
        end: text.len(),
        depth: 0,
    };
    let expr = parser.expression(0)?;
    if parser.at < parser.tokens.len() {
        return Err(parser.error("unexpected text after the expression"));
    }
    Ok(expr)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    at: usize,
    end: usize,
    depth: usize,
}

/// Binary operators by precedence level, loosest first (level 0 is `implies`).
fn binary_operator(token: &Token) -> Option<(usize, BinaryOp)> {
    let op = match token {
        Token::Identifier(word) => match word.as_str() {
            "implies" => (0, BinaryOp::Implies),
            "or" => (1, BinaryOp::Or),
            "xor" => (1, BinaryOp::Xor),
            "and" => (2, BinaryOp::And),
            "in" => (3, BinaryOp::In),
            "contains" => (3, BinaryOp::Contains),
            "div" => (9, BinaryOp::Div),
            "mod" => (9, BinaryOp::Mod),
            _ => return None,
        },
        Token::Symbol(symbol) => match *symbol {
            "=" => (4, BinaryOp::Equal),
            "~" => (4, BinaryOp::Equivalent),
            "!=" => (4, BinaryOp::NotEqual),
            "!~" => (4, BinaryOp::NotEquivalent),
            "<" => (5, BinaryOp::Less),
            ">" => (5, BinaryOp::Greater),
            "<=" => (5, BinaryOp::LessOrEqual),
            ">=" => (5, BinaryOp::GreaterOrEqual),
            "|" => (6, BinaryOp::Union),
            "+" => (8, BinaryOp::Add),
            "-" => (8, BinaryOp::Subtract),
            "&" => (8, BinaryOp::Concatenate),
            "*" => (9, BinaryOp::Multiply),
            "/" => (9, BinaryOp::Divide),
            _ => return None,
        },
        _ => return None,
    };
    Some(op)
}

/// `is` and `as` sit at level 7, between `|` and `+`.
const TYPE_LEVEL: usize = 7;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|(_, t)| t)
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(o, _)| *o)
    }

    fn error(&self, message: &str) -> ParseError {
        ParseError {
            offset: self.offset(),
            message: message.to_owned(),
        }
    }

    fn eat(&mut self, symbol: &str) -> bool {
        if matches!(self.peek(), Some(Token::Symbol(s)) if *s == symbol) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, symbol: &str) -> Result<(), ParseError> {
        if self.eat(symbol) {
            Ok(())
        } else {
            Err(self.error(&format!("expected {symbol}")))
        }
    }

    fn expression(&mut self, level: usize) -> Result<Expr, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("the expression nests too deeply"));
        }
        let mut left = self.unary()?;
        while let Some(token) = self.peek() {
            if let Token::Identifier(word) = token
                && (word == "is" || word == "as")
                && level <= TYPE_LEVEL
            {
                let op = if word == "is" { TypeOp::Is } else { TypeOp::As };
                self.at += 1;
                let specifier = self.type_specifier()?;
                left = Expr::Type(op, Box::new(left), specifier);
                continue;
            }
            let Some((op_level, op)) = binary_operator(token) else {
                break;
            };
            if op_level < level {
                break;
            }
            self.at += 1;
            let right = self.expression(op_level + 1)?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    /// Signs in front of a term; a loop, so `------1` cannot exhaust the stack.
    fn unary(&mut self) -> Result<Expr, ParseError> {
        let mut negate = false;
        loop {
            if self.eat("-") {
                negate = !negate;
            } else if !self.eat("+") {
                break;
            }
        }
        let operand = self.postfix()?;
        if !negate {
            return Ok(operand);
        }
        Ok(match operand {
            Expr::Literal(Literal::Integer(n)) => Expr::Literal(Literal::Integer(-n)),
            Expr::Literal(Literal::Decimal(n)) => Expr::Literal(Literal::Decimal(-n)),
            Expr::Literal(Literal::Quantity(n, unit)) => Expr::Literal(Literal::Quantity(-n, unit)),
            other => Expr::Negate(Box::new(other)),
        })
    }

    fn postfix(&mut self) -> Result<Expr, ParseError> {
        let mut expr = self.term()?;
        loop {
            if self.eat(".") {
                let name = self.name()?;
                if self.eat("(") {
                    let args = self.arguments()?;
                    expr = Expr::Call(Some(Box::new(expr)), name, args);
                } else {
                    expr = Expr::Member(Some(Box::new(expr)), name);
                }
            } else if self.eat("[") {
                let index = self.expression(0)?;
                self.expect("]")?;
                expr = Expr::Indexer(Box::new(expr), Box::new(index));
            } else {
                return Ok(expr);
            }
        }
    }

    fn name(&mut self) -> Result<String, ParseError> {
        match self.peek().cloned() {
            Some(Token::Identifier(name) | Token::Quoted(name)) => {
                self.at += 1;
                Ok(name)
            }
            _ => Err(self.error("expected a name")),
        }
    }

    fn arguments(&mut self) -> Result<Vec<Expr>, ParseError> {
        let mut args = Vec::new();
        if self.eat(")") {
            return Ok(args);
        }
        loop {
            args.push(self.expression(0)?);
            if self.eat(")") {
                return Ok(args);
            }
            self.expect(",")?;
        }
    }

    fn type_specifier(&mut self) -> Result<TypeSpecifier, ParseError> {
        let first = self.name()?;
        if self.eat(".") {
            let name = self.name()?;
            Ok(TypeSpecifier {
                namespace: Some(first),
                name,
            })
        } else {
            Ok(TypeSpecifier {
                namespace: None,
                name: first,
            })
        }
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.error("the expression ends too early"));
        };
        self.at += 1;
        match token {
            Token::Symbol("(") => {
                let inner = self.expression(0)?;
                self.expect(")")?;
                Ok(inner)
            }
            Token::Symbol("{") => {
                self.expect("}")?;
                Ok(Expr::Empty)
            }
            Token::String(text) => Ok(Expr::Literal(Literal::String(text))),
            Token::Number(digits) => self.number(&digits),
            Token::DateTime(text) => Ok(Expr::Literal(date_literal(text))),
            Token::Time(text) => Ok(Expr::Literal(Literal::Time(text))),
            Token::Variable(name) => Ok(Expr::Variable(name)),
            Token::Special("$this") => Ok(Expr::This),
            Token::Special("$index") => Ok(Expr::Index),
            Token::Special("$total") => Ok(Expr::Total),
            Token::Identifier(word) if word == "true" || word == "false" => {
                Ok(Expr::Literal(Literal::Boolean(word == "true")))
            }
            Token::Identifier(name) | Token::Quoted(name) => {
                if self.eat("(") {
                    let args = self.arguments()?;
                    Ok(Expr::Call(None, name, args))
                } else {
                    Ok(Expr::Member(None, name))
                }
            }
            _ => {
                self.at -= 1;
                Err(self.error("expected a term"))
            }
        }
    }

    /// A number, or a quantity when a unit follows (`4 'mg'`, `3 days`).
    fn number(&mut self, digits: &str) -> Result<Expr, ParseError> {
        let value: f64 = digits
            .parse()
            .map_err(|_| self.error(&format!("bad number {digits}")))?;
        let unit = match self.peek() {
            Some(Token::String(unit)) => Some(unit.clone()),
            Some(Token::Identifier(word)) if calendar_unit(word).is_some() => {
                calendar_unit(word).map(str::to_owned)
            }
            _ => None,
        };
        if let Some(unit) = unit {
            self.at += 1;
            return Ok(Expr::Literal(Literal::Quantity(value, unit)));
        }
        if digits.contains('.') {
            Ok(Expr::Literal(Literal::Decimal(value)))
        } else {
            digits
                .parse()
                .map(|n| Expr::Literal(Literal::Integer(n)))
                .map_err(|_| self.error(&format!("integer {digits} is too large")))
        }
    }
}

/// A calendar duration keyword, singular or plural, as its singular name.
pub fn calendar_unit(word: &str) -> Option<&'static str> {
    Some(match word {
        "year" | "years" => "year",
        "month" | "months" => "month",
        "week" | "weeks" => "week",
        "day" | "days" => "day",
        "hour" | "hours" => "hour",
        "minute" | "minutes" => "minute",
        "second" | "seconds" => "second",
        "millisecond" | "milliseconds" => "millisecond",
        _ => return None,
    })
}

fn date_literal(text: String) -> Literal {
    if text.contains('T') {
        Literal::DateTime(text)
    } else {
        Literal::Date(text)
    }
}

#[cfg(test)]
mod tests;
