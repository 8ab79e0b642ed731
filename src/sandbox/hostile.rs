//! `mts sandbox --hostile <case>`: a server that answers every request with one kind of broken or
//! malicious HTTP, written byte by byte on a raw socket (a real HTTP library would refuse to send
//! most of it). Each case is something a supplier's API, or a proxy in front of it, can do; the
//! harness must finish within its deadlines, write its report and name the cause.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

macro_rules! hostile_cases {
    ($($case:ident = $name:literal: $what:literal;)+) => {
        /// One kind of hostile or broken answer.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Hostile { $($case,)+ }

        impl Hostile {
            pub const ALL: &'static [Hostile] = &[$(Hostile::$case,)+];

            pub fn name(self) -> &'static str {
                match self { $(Hostile::$case => $name,)+ }
            }

            pub fn description(self) -> &'static str {
                match self { $(Hostile::$case => $what,)+ }
            }
        }
    };
}

hostile_cases! {
    InvalidJson = "invalid-json": "a FHIR body cut off in the middle of the JSON";
    ByteOrderMark = "bom": "a JSON body starting with a UTF-8 byte order mark (RFC 8259 forbids sending one)";
    NonUtf8 = "non-utf8": "a JSON body with bytes that are not UTF-8";
    ContentTypeMismatch = "content-type-mismatch": "an HTML error page labelled application/fhir+json";
    ShortBody = "short-body": "Content-Length claims 4096 bytes, 50 are sent, then the connection closes";
    DeepNesting = "deep-nesting": "JSON nested 100,000 arrays deep";
    HugeBody = "huge-body": "a 1 GiB body (Content-Length: 1073741824)";
    GzipBomb = "gzip-bomb": "a gzip body of about 64 KiB that inflates to 64 MiB";
    EndlessChunked = "endless-chunked": "a chunked body that never ends";
    Silent = "silent": "accepts the connection, reads the request, never answers";
    EndlessHeaders = "endless-headers": "a status line, then one more header line a second, forever";
    Trickle = "trickle": "headers at once, then the body one byte a second";
    ResetMidBody = "reset-mid-body": "half the body, then a TCP reset";
    GarbageStatus = "garbage-status": "a status line that is not HTTP (`HTTP/1.1 ok computer`)";
    Http09 = "http09": "an HTTP/0.9 answer: the body with no status line or headers";
    RedirectLoop = "redirect-loop": "302 back to the URL that was asked for";
    RedirectOtherHost = "redirect-other-host": "307 to the same path on another origin (--redirect-to)";
    ManyHeaders = "many-headers": "10,000 response headers";
    HugeHeader = "huge-header": "one 1 MiB header value";
    DuplicateHeaders = "duplicate-headers": "two conflicting Content-Type and X-Request-ID headers";
    MissingResourceType = "missing-resource-type": "JSON objects with no resourceType";
    WrongResourceType = "wrong-resource-type": "an Observation where a Patient was asked for";
    LongId = "long-id": "a Patient whose id is 10,000 characters";
    PagingLoop = "paging-loop": "searchsets whose next link leads to another page, forever";
}

impl std::str::FromStr for Hostile {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Hostile::ALL
            .iter()
            .copied()
            .find(|case| case.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Hostile::ALL.iter().map(|c| c.name()).collect();
                format!(
                    "unknown hostile case `{text}`; the cases are: {}",
                    names.join(", ")
                )
            })
    }
}

/// Serves `case` on `listener` until the task is dropped. `elsewhere` is the origin redirects
/// to another host point at.
pub async fn serve(listener: TcpListener, case: Hostile, elsewhere: String) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors, say: back off rather than spin.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let elsewhere = elsewhere.clone();
        tokio::spawn(async move {
            // The hostile server never gives up first, but a finished client goes away.
            let _ = answer(stream, case, &elsewhere).await;
        });
    }
}

const PATIENT: &str = r#"{"resourceType":"Patient","id":"9000000009","identifier":[{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9000000009"}],"name":[{"family":"Smith","given":["Jane"]}],"gender":"female","birthDate":"1980-01-01"}"#;
const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// The head of one request: target (path and query) and Host.
struct RequestHead {
    target: String,
    host: String,
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<RequestHead>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = memchr::memmem::find(&buffer, b"\r\n\r\n") {
            break end + 4;
        }
        if buffer.len() > 64 * 1024 {
            return Ok(None);
        }
        let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut chunk))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        if read == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..read]);
        if buffer.starts_with(&[0x16, 0x03]) {
            // A TLS ClientHello: answer in plain HTTP, as a plain-HTTP server on that port would.
            let refusal =
                "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            stream.write_all(refusal.as_bytes()).await?;
            return Ok(None);
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let target = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .unwrap_or("/")
        .to_owned();
    let header = |name: &str| {
        head.split("\r\n").find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    // Drain a request body so closing the socket does not reset the answer away.
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
        .min(1024 * 1024);
    let mut remaining = length.saturating_sub(buffer.len() - head_end);
    while remaining > 0 {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        remaining = remaining.saturating_sub(read);
    }
    Ok(Some(RequestHead {
        target,
        host: header("host").unwrap_or_else(|| "127.0.0.1".into()),
    }))
}

async fn answer(mut stream: TcpStream, case: Hostile, elsewhere: &str) -> std::io::Result<()> {
    let Some(request) = read_request(&mut stream).await? else {
        return Ok(());
    };
    let ok = |content_type: &str, body: &[u8]| head(200, content_type, &[], Some(body.len()));
    match case {
        Hostile::InvalidJson => {
            let body = &PATIENT.as_bytes()[..PATIENT.len() / 2];
            send(&mut stream, &ok(FHIR_JSON, body), body).await
        }
        Hostile::ByteOrderMark => {
            let body = [b"\xEF\xBB\xBF".as_slice(), PATIENT.as_bytes()].concat();
            send(&mut stream, &ok(FHIR_JSON, &body), &body).await
        }
        Hostile::NonUtf8 => {
            let body = PATIENT.replace("Smith", "Sm\u{1}ith").into_bytes();
            let body: Vec<u8> = body
                .into_iter()
                .map(|b| if b == 1 { 0xFF } else { b })
                .collect();
            send(&mut stream, &ok(FHIR_JSON, &body), &body).await
        }
        Hostile::ContentTypeMismatch => {
            let body = b"<!DOCTYPE html><html><body><h1>Service temporarily unavailable</h1></body></html>";
            send(&mut stream, &ok(FHIR_JSON, body), body).await
        }
        Hostile::ShortBody => {
            let head = head(200, FHIR_JSON, &[], Some(4096));
            send(&mut stream, &head, &PATIENT.as_bytes()[..50]).await
        }
        Hostile::DeepNesting => {
            let depth = 100_000;
            let body = format!(
                r#"{{"resourceType":"Patient","id":"9000000009","extension":{}{}}}"#,
                "[".repeat(depth),
                "]".repeat(depth)
            );
            send(
                &mut stream,
                &ok(FHIR_JSON, body.as_bytes()),
                body.as_bytes(),
            )
            .await
        }
        Hostile::HugeBody => {
            let prefix = br#"{"resourceType":"Patient","id":"9000000009","text":{"status":"generated","div":""#;
            let total = 1usize << 30;
            stream
                .write_all(head(200, FHIR_JSON, &[], Some(total)).as_bytes())
                .await?;
            stream.write_all(prefix).await?;
            let filler = vec![b'a'; 64 * 1024];
            let mut written = prefix.len();
            while written < total {
                let next = filler.len().min(total - written);
                stream.write_all(&filler[..next]).await?;
                written += next;
            }
            Ok(())
        }
        Hostile::GzipBomb => {
            let body = gzip_bomb();
            let head = head(
                200,
                FHIR_JSON,
                &["Content-Encoding: gzip"],
                Some(body.len()),
            );
            send(&mut stream, &head, body).await
        }
        Hostile::EndlessChunked => {
            let head = head(200, FHIR_JSON, &["Transfer-Encoding: chunked"], None);
            stream.write_all(head.as_bytes()).await?;
            let prefix = br#"{"resourceType":"Patient","id":"9000000009","text":{"div":""#;
            stream.write_all(&chunk(prefix)).await?;
            let filler = chunk(&[b'a'; 16 * 1024]);
            loop {
                stream.write_all(&filler).await?;
            }
        }
        Hostile::Silent => hold_until_closed(&mut stream).await,
        Hostile::EndlessHeaders => {
            stream.write_all(b"HTTP/1.1 200 OK\r\n").await?;
            for n in 0u64.. {
                stream
                    .write_all(format!("X-Still-Thinking: {n}\r\n").as_bytes())
                    .await?;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Ok(())
        }
        Hostile::Trickle => {
            stream
                .write_all(head(200, FHIR_JSON, &[], Some(PATIENT.len())).as_bytes())
                .await?;
            for byte in PATIENT.as_bytes() {
                stream.write_all(&[*byte]).await?;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Ok(())
        }
        Hostile::ResetMidBody => {
            let body = PATIENT.repeat(20);
            stream
                .write_all(head(200, FHIR_JSON, &[], Some(body.len())).as_bytes())
                .await?;
            stream.write_all(&body.as_bytes()[..body.len() / 2]).await?;
            stream.flush().await?;
            tokio::time::sleep(Duration::from_millis(50)).await;
            // Linger zero: closing sends RST, not FIN.
            stream.set_zero_linger()?;
            drop(stream);
            Ok(())
        }
        Hostile::GarbageStatus => {
            let answer = format!(
                "HTTP/1.1 ok computer\r\nContent-Length: {}\r\n\r\n{PATIENT}",
                PATIENT.len()
            );
            stream.write_all(answer.as_bytes()).await
        }
        Hostile::Http09 => stream.write_all(PATIENT.as_bytes()).await,
        Hostile::RedirectLoop => {
            let location = format!("Location: http://{}{}", request.host, request.target);
            send(
                &mut stream,
                &head(302, "text/plain", &[&location], Some(0)),
                b"",
            )
            .await
        }
        Hostile::RedirectOtherHost => {
            let location = format!(
                "Location: {}{}",
                elsewhere.trim_end_matches('/'),
                request.target
            );
            send(
                &mut stream,
                &head(307, "text/plain", &[&location], Some(0)),
                b"",
            )
            .await
        }
        Hostile::ManyHeaders => {
            let fillers: Vec<String> = (0..10_000).map(|n| format!("X-Filler-{n}: {n}")).collect();
            let fillers: Vec<&str> = fillers.iter().map(String::as_str).collect();
            let head = head(200, FHIR_JSON, &fillers, Some(PATIENT.len()));
            send(&mut stream, &head, PATIENT.as_bytes()).await
        }
        Hostile::HugeHeader => {
            let huge = format!("X-Huge: {}", "a".repeat(1024 * 1024));
            let head = head(200, FHIR_JSON, &[&huge], Some(PATIENT.len()));
            send(&mut stream, &head, PATIENT.as_bytes()).await
        }
        Hostile::DuplicateHeaders => {
            let extra = [
                "Content-Type: text/html",
                "X-Request-ID: 00000000-0000-4000-8000-000000000001",
                "X-Request-ID: 00000000-0000-4000-8000-000000000002",
            ];
            let head = head(200, FHIR_JSON, &extra, Some(PATIENT.len()));
            send(&mut stream, &head, PATIENT.as_bytes()).await
        }
        Hostile::MissingResourceType => {
            let body = PATIENT.replace(r#""resourceType":"Patient","#, "");
            send(
                &mut stream,
                &ok(FHIR_JSON, body.as_bytes()),
                body.as_bytes(),
            )
            .await
        }
        Hostile::WrongResourceType => {
            let body = r#"{"resourceType":"Observation","id":"9000000009","status":"final","code":{"text":"blood pressure"}}"#;
            send(
                &mut stream,
                &ok(FHIR_JSON, body.as_bytes()),
                body.as_bytes(),
            )
            .await
        }
        Hostile::LongId => {
            let body = PATIENT.replace(
                "\"id\":\"9000000009\"",
                &format!("\"id\":\"{}\"", "a".repeat(10_000)),
            );
            send(
                &mut stream,
                &ok(FHIR_JSON, body.as_bytes()),
                body.as_bytes(),
            )
            .await
        }
        Hostile::PagingLoop => {
            let body = endless_page(&request);
            send(
                &mut stream,
                &ok(FHIR_JSON, body.as_bytes()),
                body.as_bytes(),
            )
            .await
        }
    }
}

/// A status line and headers, always closing the connection after the answer.
fn head(status: u16, content_type: &str, extra: &[&str], length: Option<usize>) -> String {
    let reason = match status {
        200 => "OK",
        302 => "Found",
        307 => "Temporary Redirect",
        _ => "Whatever",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nConnection: close\r\n"
    );
    if let Some(length) = length {
        head.push_str(&format!("Content-Length: {length}\r\n"));
    }
    for line in extra {
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head
}

async fn send(stream: &mut TcpStream, head: &str, body: &[u8]) -> std::io::Result<()> {
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await?;
    stream.shutdown().await
}

fn chunk(data: &[u8]) -> Vec<u8> {
    [format!("{:x}\r\n", data.len()).as_bytes(), data, b"\r\n"].concat()
}

async fn hold_until_closed(stream: &mut TcpStream) -> std::io::Result<()> {
    let mut sink = [0u8; 1024];
    while stream.read(&mut sink).await? > 0 {}
    Ok(())
}

/// 64 MiB of JSON whitespace inside a Patient, gzipped once per process (about 64 KiB).
fn gzip_bomb() -> &'static [u8] {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| {
        use std::io::Write as _;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let spaces = vec![b' '; 1024 * 1024];
        let mut write = || -> std::io::Result<Vec<u8>> {
            encoder.write_all(br#"{"resourceType":"Patient","id":"9000000009""#)?;
            for _ in 0..64 {
                encoder.write_all(&spaces)?;
            }
            encoder.write_all(b"}")?;
            encoder.try_finish()?;
            Ok(std::mem::take(encoder.get_mut()))
        };
        write().unwrap_or_default()
    })
}

/// A one-entry searchset whose next link asks for the following page, with no last page.
fn endless_page(request: &RequestHead) -> String {
    let page: u64 = request
        .target
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("_page="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let base = request
        .target
        .split('&')
        .filter(|pair| !pair.starts_with("_page="))
        .collect::<Vec<_>>()
        .join("&");
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("http://{}{}", request.host, request.target);
    let next = format!("http://{}{base}{separator}_page={}", request.host, page + 1);
    let patient = PATIENT.replace("\"id\":\"9000000009\"", &format!("\"id\":\"page-{page}\""));
    format!(
        r#"{{"resourceType":"Bundle","type":"searchset","total":1000000,"link":[{{"relation":"self","url":{}}},{{"relation":"next","url":{}}}],"entry":[{{"fullUrl":"http://{}/FHIR/R4/Patient/page-{page}","resource":{patient},"search":{{"mode":"match"}}}}]}}"#,
        serde_json::Value::from(url),
        serde_json::Value::from(next),
        request.host
    )
}

/// Binds `listen` and serves `case` in the background.
pub async fn start(
    listen: SocketAddr,
    case: Hostile,
    elsewhere: String,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(listen).await?;
    let address = listener.local_addr()?;
    if case == Hostile::GzipBomb {
        // Made before the first request, so the bomb arrives at once rather than after a pause.
        let _ = tokio::task::spawn_blocking(gzip_bomb).await;
    }
    Ok((address, tokio::spawn(serve(listener, case, elsewhere))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_parses_back_from_its_name() {
        for case in Hostile::ALL {
            assert_eq!(case.name().parse::<Hostile>(), Ok(*case));
        }
        assert!("nope".parse::<Hostile>().unwrap_err().contains("gzip-bomb"));
    }

    #[test]
    fn the_gzip_bomb_is_small_and_inflates_past_the_default_body_limit() {
        use std::io::Read as _;
        let bomb = gzip_bomb();
        assert!(bomb.len() < 256 * 1024, "{} bytes", bomb.len());
        let mut inflated = 0u64;
        let mut decoder = flate2::read::GzDecoder::new(bomb);
        let mut buffer = vec![0u8; 1 << 20];
        while let Ok(n) = decoder.read(&mut buffer) {
            if n == 0 {
                break;
            }
            inflated += n as u64;
        }
        assert!(inflated > 64 * 1024 * 1024);
    }

    #[test]
    fn paging_never_ends() {
        let page = endless_page(&RequestHead {
            target: "/FHIR/R4/Patient?family=Smith&_page=7".into(),
            host: "127.0.0.1:1".into(),
        });
        let bundle: serde_json::Value = serde_json::from_str(&page).unwrap();
        assert_eq!(
            bundle["link"][1]["url"],
            "http://127.0.0.1:1/FHIR/R4/Patient?family=Smith&_page=8"
        );
        assert_eq!(bundle["entry"][0]["resource"]["id"], "page-7");
    }
}
