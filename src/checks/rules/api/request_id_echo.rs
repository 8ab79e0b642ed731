//! `api.request-id-echo` (API-HDR-001): every response mirrors the X-Request-ID UUID its request
//! carried.

use crate::checks::rules::prelude::*;

pub(crate) const CHECK: PassiveCheck = PassiveCheck {
    id: "api.request-id-echo",
    requirement: RequirementCode::new("API-HDR-001"),
    summary: "every response mirrors the X-Request-ID UUID its request carried",
    judge,
    unjudged: None,
};

fn judge(exchange: &Exchange, _: &PassiveContext) -> Option<Judged> {
    let response = exchange.response.as_ref()?;
    // A CORS preflight is answered by the CORS layer for a browser that sends no custom
    // headers on it; the echo is owed to the request that follows, not to the preflight.
    if exchange.request.method == "OPTIONS"
        && exchange
            .request
            .header("access-control-request-method")
            .is_some()
    {
        return None;
    }
    let sent = exchange.request.header("x-request-id")?;
    // Only well-formed ids are owed an echo: a deliberately bad id is API-HDR-002's business.
    uuid::Uuid::parse_str(sent).ok()?;
    Some(match response.header("x-request-id") {
        Some(received) if received == sent => Judged::pass(),
        Some(received) => Judged::fail(
            Failure::new(format!(
                "{} changed X-Request-ID",
                exchange.summary_request()
            ))
            .expected(format!("X-Request-ID: {sent}"))
            .actual(format!("X-Request-ID: {received}")),
        ),
        None => Judged::fail(
            Failure::new(format!(
                "{} did not echo X-Request-ID",
                exchange.summary_request()
            ))
            .expected(format!("X-Request-ID: {sent}"))
            .actual("no X-Request-ID header"),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_must_come_back_when_they_were_uuids() {
        let id = "0b7ab2a6-5d84-4bd2-a1f8-3b4bd1b3d5a9";
        assert!(
            verdict(&CHECK, &exchange(200, &[("X-Request-ID", id)], ""))
                .unwrap()
                .is_ok()
        );
        assert!(verdict(&CHECK, &exchange(200, &[], "")).unwrap().is_err());
        let bad_id = exchange_with_request(&[("X-Request-ID", "1234")], 400, &[], "");
        assert!(verdict(&CHECK, &bad_id).is_none());
        let mut preflight = exchange_with_request(
            &[
                ("X-Request-ID", id),
                ("Access-Control-Request-Method", "GET"),
            ],
            200,
            &[],
            "",
        );
        assert!(verdict(&CHECK, &preflight).unwrap().is_err());
        preflight.request.method = "OPTIONS".into();
        assert!(
            verdict(&CHECK, &preflight).is_none(),
            "a CORS preflight owes no echo"
        );
    }
}
