//! Request building, sending, and assertions on status and headers.

use super::library::{Args, StepDefinition, step};
use super::world::{MtsWorld, expand_placeholders};
use crate::checks::{Halt, assert};
use crate::http::{RequestIdMode, RequestSpec};

pub fn register(defs: &mut Vec<StepDefinition>) {
    step!(
        defs,
        Given,
        r#"^header names are sent exactly as written$"#,
        "header names are sent exactly as written",
        raw_header_names
    );
    step!(
        defs,
        Then,
        r#"^the response header "([^"]+)" is "([^"]*)"$"#,
        r#"the response header "Content-Encoding" is "gzip""#,
        header_is
    );
    step!(
        defs,
        Then,
        r#"^the body is empty$"#,
        "the body is empty",
        body_empty
    );
    step!(
        defs,
        Given,
        r#"^a (GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|TRACE) request to "([^"]*)"$"#,
        r#"a GET request to "metadata""#,
        new_request
    );
    step!(
        defs,
        Given,
        r#"^the request header "([^"]+)" is "([^"]*)"$"#,
        r#"the request header "Accept" is "application/fhir+json""#,
        set_header
    );
    step!(
        defs,
        Given,
        r#"^the request header "([^"]+)" is omitted$"#,
        r#"the request header "X-Request-ID" is omitted"#,
        omit_header
    );
    step!(
        defs,
        Given,
        r#"^the request header "([^"]+)" is a new UUID$"#,
        r#"the request header "X-Correlation-ID" is a new UUID"#,
        uuid_header
    );
    step!(
        defs,
        Given,
        r#"^the query parameter "([^"]+)" is "([^"]*)"$"#,
        r#"the query parameter "_format" is "json""#,
        add_query
    );
    step!(
        defs,
        Given,
        r#"^the request carries no credentials$"#,
        "the request carries no credentials",
        no_credentials
    );
    step!(
        defs,
        When,
        r#"^the request is sent$"#,
        "the request is sent",
        send
    );
    step!(
        defs,
        Then,
        r#"^the status is (\d{3})$"#,
        "the status is 200",
        status_is
    );
    step!(
        defs,
        Then,
        r#"^the status is one of (\d{3}(?:(?:, | or )\d{3})+)$"#,
        "the status is one of 400, 422",
        status_is_one_of
    );
    step!(
        defs,
        Then,
        r#"^the status is not a server error$"#,
        "the status is not a server error",
        not_server_error
    );
    step!(
        defs,
        Then,
        r#"^the response header "([^"]+)" echoes the request header "([^"]+)"$"#,
        r#"the response header "X-Request-ID" echoes the request header "X-Request-ID""#,
        header_echoed
    );
    step!(
        defs,
        Then,
        r#"^the response header "([^"]+)" is absent$"#,
        r#"the response header "X-Correlation-ID" is absent"#,
        header_absent
    );
}

async fn new_request(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let target = expand_placeholders(args.get(1), world.data()?).map_err(Halt::Error)?;
    let mut spec = RequestSpec::get(target);
    spec.method = args.get(0).to_owned();
    world.request = Some(spec);
    Ok(())
}

async fn set_header(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let value = expand_placeholders(args.get(1), world.data()?).map_err(Halt::Error)?;
    let name = args.get(0).to_owned();
    let request = world.request_mut()?;
    if name.eq_ignore_ascii_case("x-request-id") {
        request.request_id = RequestIdMode::Value(value);
        request.request_id_header = name;
    } else {
        request.set_header(&name, value);
    }
    Ok(())
}

async fn omit_header(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let name = args.get(0).to_owned();
    let request = world.request_mut()?;
    if name.eq_ignore_ascii_case("x-request-id") {
        request.request_id = RequestIdMode::Omit;
    }
    request.omit_header(&name);
    Ok(())
}

async fn uuid_header(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let name = args.get(0).to_owned();
    let value = uuid::Uuid::new_v4().to_string();
    let request = world.request_mut()?;
    if name.eq_ignore_ascii_case("x-request-id") {
        request.request_id = RequestIdMode::Value(value);
        request.request_id_header = name;
    } else {
        request.set_header(&name, value);
    }
    Ok(())
}

async fn add_query(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let value = expand_placeholders(args.get(1), world.data()?).map_err(Halt::Error)?;
    let name = args.get(0).to_owned();
    world.request_mut()?.query.push((name, value));
    Ok(())
}

async fn raw_header_names(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    world.request_mut()?.raw = true;
    Ok(())
}

async fn header_is(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    assert::header_is(world.last()?, args.get(0), args.get(1))
}

async fn body_empty(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let exchange = world.last()?.clone();
    let response = assert::response(&exchange)?;
    if response.body.is_empty() {
        return Ok(());
    }
    Err(
        crate::report::Failure::new("the response has a body where none was asked for")
            .expected("an empty body")
            .actual(assert::preview(&response.body.text()))
            .exchange(&exchange.id)
            .into(),
    )
}

async fn no_credentials(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    world.request_mut()?.with_credentials = false;
    Ok(())
}

async fn send(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    let spec = world.request_mut()?.clone();
    world.send(&spec).await?;
    super::writes::restore_if_taken(world).await
}

async fn status_is(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let expected: u16 = args
        .get(0)
        .parse()
        .map_err(|_| Halt::Error("bad status in step".into()))?;
    assert::status_is(world.last()?, &[expected])
}

async fn status_is_one_of(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    let allowed: Vec<u16> = args
        .get(0)
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|s| s.parse().ok())
        .collect();
    assert::status_is(world.last()?, &allowed)
}

async fn not_server_error(world: &mut MtsWorld, _: Args) -> Result<(), Halt> {
    assert::status_is_not_server_error(world.last()?)
}

async fn header_echoed(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    assert::header_echoed(world.last()?, args.get(1), args.get(0))
}

async fn header_absent(world: &mut MtsWorld, args: Args) -> Result<(), Halt> {
    assert::header_absent(world.last()?, args.get(0))
}
