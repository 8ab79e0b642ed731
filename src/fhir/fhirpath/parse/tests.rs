//! Unit tests for the FHIRPath parser (`fhirpath::parse`).

use super::*;

fn member(on: Option<Expr>, name: &str) -> Expr {
    Expr::Member(on.map(Box::new), name.into())
}

#[test]
fn paths_calls_and_precedence() {
    let parsed = parse("name.given.exists() and a = 1 or b").unwrap();
    let Expr::Binary(BinaryOp::Or, left, _) = parsed else {
        panic!("or binds loosest: {parsed:?}")
    };
    let Expr::Binary(BinaryOp::And, call, equal) = *left else {
        panic!("and under or")
    };
    assert_eq!(
        *call,
        Expr::Call(
            Some(Box::new(member(Some(member(None, "name")), "given"))),
            "exists".into(),
            vec![]
        )
    );
    assert!(matches!(*equal, Expr::Binary(BinaryOp::Equal, _, _)));
    assert!(matches!(
        parse("a implies b or c").unwrap(),
        Expr::Binary(BinaryOp::Implies, _, _)
    ));
    assert!(matches!(
        parse("1 + 2 * 3").unwrap(),
        Expr::Binary(BinaryOp::Add, _, _)
    ));
    assert!(matches!(
        parse("a | b = c").unwrap(),
        Expr::Binary(BinaryOp::Equal, _, _)
    ));
}

#[test]
fn literals_and_type_operators() {
    assert_eq!(
        parse("4.5 'mg'").unwrap(),
        Expr::Literal(Literal::Quantity(4.5, "mg".into()))
    );
    assert_eq!(
        parse("3 days").unwrap(),
        Expr::Literal(Literal::Quantity(3.0, "day".into()))
    );
    assert_eq!(
        parse("@2014-01-25T14:30:14.559Z").unwrap(),
        Expr::Literal(Literal::DateTime("2014-01-25T14:30:14.559Z".into()))
    );
    assert_eq!(
        parse("@T14:30").unwrap(),
        Expr::Literal(Literal::Time("14:30".into()))
    );
    assert_eq!(
        parse(r"'it\'s \u0041'").unwrap(),
        Expr::Literal(Literal::String("it's A".into()))
    );
    assert!(matches!(
        parse("value is FHIR.Quantity").unwrap(),
        Expr::Type(
            TypeOp::Is,
            _,
            TypeSpecifier {
                namespace: Some(_),
                ..
            }
        )
    ));
    assert_eq!(parse("-5").unwrap(), Expr::Literal(Literal::Integer(-5)));
    assert_eq!(parse("%`vs-x`").unwrap(), Expr::Variable("vs-x".into()));
    assert_eq!(parse("`div`").unwrap(), member(None, "div"));
}

#[test]
fn errors_say_where() {
    assert!(parse("name.").is_err());
    assert!(parse("(a").is_err());
    assert!(parse("'open").is_err());
    assert!(parse("a b").is_err());
    assert!(parse("$that").is_err());
    let deep = "(".repeat(5000) + "1" + &")".repeat(5000);
    assert!(
        parse(&deep).is_err(),
        "deep nesting is refused, not a stack overflow"
    );
    assert_eq!(
        parse(&("-".repeat(300) + "1")).unwrap(),
        Expr::Literal(Literal::Integer(1))
    );
    assert!(parse(&("a".to_owned() + &".a".repeat(200_000))).is_err());
    assert!(parse(&("1".to_owned() + &" + 1".repeat(100_000))).is_err());
}
