//! FHIRPath text to a syntax tree (FHIRPath N1, the grammar FHIR R4 uses), with the
//! operator precedence of the specification's §10.

mod lex;

use std::fmt;

use lex::{Token, lex};

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

/// The deepest nesting accepted: expressions in conformance resources nest a dozen deep; the
/// limit keeps a hostile expression from exhausting the stack.
const MAX_DEPTH: usize = 100;

/// The most tokens an expression may have. A syntax tree is never deeper than its token count,
/// and evaluating (or dropping) it recurses once per level: a left-nested chain such as
/// `a.a.a…` or `1 + 1 + …` is as deep as it is long, so length is what bounds the stack. R4
/// core's longest invariant (dom-3) has 121 tokens.
const MAX_TOKENS: usize = 400;

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
