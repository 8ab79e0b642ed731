//! Hand-written HTTP/1.1 requests, for the probes a regular client cannot make: header names
//! sent exactly as written (`X-REQUEST-ID`), and later unusual methods or framing. The exchange
//! is recorded like any other; the same deadline, body cap and TLS trust apply.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::exchange::{Body, RecordedResponse, TransportError, TransportErrorKind};

fn error(kind: TransportErrorKind, message: impl Into<String>) -> TransportError {
    TransportError {
        kind,
        message: message.into(),
    }
}

/// Sends one request on a fresh connection (`Connection: close`) and reads the whole answer.
pub async fn exchange(
    url: &str,
    method: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
    tls: &Arc<rustls::ClientConfig>,
    timeout: Duration,
    body_limit: usize,
) -> Result<RecordedResponse, TransportError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        error(
            TransportErrorKind::InvalidRequest,
            format!("bad URL {url}: {e}"),
        )
    })?;
    let host = parsed
        .host_str()
        .ok_or_else(|| error(TransportErrorKind::InvalidRequest, "the URL has no host"))?
        .to_owned();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let target = match parsed.query() {
        Some(query) => format!("{}?{query}", parsed.path()),
        None => parsed.path().to_owned(),
    };
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\n",
        host_header(&parsed, &host, port)
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("Connection: close\r\n");
    if let Some(body) = body {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    if let Some(body) = body {
        request.extend_from_slice(body);
    }
    // One deadline for the whole exchange; each wait names what it was waiting for.
    let deadline = tokio::time::Instant::now() + timeout;
    let connect = TcpStream::connect((host.as_str(), port));
    let stream = tokio::time::timeout_at(deadline, connect)
        .await
        .map_err(|_| error(TransportErrorKind::Timeout, "timed out: no TCP connection"))?
        .map_err(|e| {
            error(
                TransportErrorKind::Connect,
                format!("could not connect: {e}"),
            )
        })?;
    if parsed.scheme() == "https" {
        let name = rustls::pki_types::ServerName::try_from(host.clone()).map_err(|e| {
            error(
                TransportErrorKind::InvalidRequest,
                format!("bad server name {host}: {e}"),
            )
        })?;
        let connector = tokio_rustls::TlsConnector::from(tls.clone());
        let tls_stream = tokio::time::timeout_at(deadline, connector.connect(name, stream))
            .await
            .map_err(|_| {
                error(
                    TransportErrorKind::Timeout,
                    "timed out during the TLS handshake",
                )
            })?
            .map_err(|e| error(TransportErrorKind::Tls, format!("TLS failure: {e}")))?;
        talk(tls_stream, &request, body_limit, deadline).await
    } else {
        talk(stream, &request, body_limit, deadline).await
    }
}

fn host_header(url: &reqwest::Url, host: &str, port: u16) -> String {
    match url.port() {
        Some(_) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

async fn talk<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: &[u8],
    body_limit: usize,
    deadline: tokio::time::Instant,
) -> Result<RecordedResponse, TransportError> {
    let timed_out = |what: String| error(TransportErrorKind::Timeout, format!("timed out {what}"));
    // tokio-rustls keeps records it could not write yet until flushed: without the flush a
    // busy socket leaves the request half-sent and the exchange waits for an answer forever.
    let send = async {
        stream.write_all(request).await?;
        stream.flush().await
    };
    tokio::time::timeout_at(deadline, send)
        .await
        .map_err(|_| timed_out("sending the request".into()))?
        .map_err(|e| {
            error(
                TransportErrorKind::Protocol,
                format!("could not send the request: {e}"),
            )
        })?;
    // Head, then body until the framing says it is complete, the peer closes, or the cap.
    let mut buffer = Vec::with_capacity(8192);
    let head_limit = 64 * 1024;
    let (parsed_head, head_len) = loop {
        let mut chunk = [0u8; 8192];
        let read = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
            .await
            .map_err(|_| {
                timed_out(format!(
                    "waiting for the response head ({} bytes received)",
                    buffer.len()
                ))
            })?
            .map_err(|e| {
                error(
                    TransportErrorKind::Protocol,
                    format!("connection failed: {e}"),
                )
            })?;
        if read == 0 {
            return Err(error(
                TransportErrorKind::Protocol,
                "the connection closed before a complete response head",
            ));
        }
        buffer.extend_from_slice(&chunk[..read]);
        let mut header_slots = [httparse::EMPTY_HEADER; 128];
        let mut response = httparse::Response::new(&mut header_slots);
        match response.parse(&buffer) {
            Ok(httparse::Status::Complete(len)) => {
                let headers: Vec<(String, String)> = response
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_owned(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect();
                let version = format!("HTTP/1.{}", response.version.unwrap_or(1));
                break ((response.code.unwrap_or(0), version, headers), len);
            }
            Ok(httparse::Status::Partial) if buffer.len() < head_limit => continue,
            Ok(httparse::Status::Partial) => {
                return Err(error(
                    TransportErrorKind::Protocol,
                    "the response head exceeds 64 KiB",
                ));
            }
            Err(e) => {
                return Err(error(
                    TransportErrorKind::Protocol,
                    format!("not an HTTP/1.x response: {e}"),
                ));
            }
        }
    };
    let (status, http_version, headers) = parsed_head;
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_ascii_lowercase())
    };
    let length = find("content-length").and_then(|v| v.parse::<usize>().ok());
    let chunked = find("transfer-encoding").is_some_and(|v| v.contains("chunked"));
    let mut raw_body = buffer.split_off(head_len);
    let mut truncated = false;
    loop {
        if let Some(length) = length
            && raw_body.len() >= length
        {
            raw_body.truncate(length);
            break;
        }
        if chunked && chunked_complete(&raw_body) {
            break;
        }
        if raw_body.len() > body_limit + 64 * 1024 {
            truncated = true;
            break;
        }
        let mut chunk = [0u8; 16384];
        let read = tokio::time::timeout_at(deadline, stream.read(&mut chunk))
            .await
            .map_err(|_| {
                timed_out(format!(
                    "reading the body ({} bytes received)",
                    raw_body.len()
                ))
            })?;
        match read {
            Ok(0) => break,
            Ok(read) => raw_body.extend_from_slice(&chunk[..read]),
            Err(e) => {
                return Err(error(
                    TransportErrorKind::Protocol,
                    format!("connection failed mid-body: {e}"),
                ));
            }
        }
    }
    let wire_size = raw_body.len();
    let mut body = if chunked {
        decode_chunked(&raw_body)
    } else {
        raw_body
    };
    if body.len() > body_limit {
        body.truncate(body_limit);
        truncated = true;
    }
    Ok(RecordedResponse {
        status,
        http_version,
        headers,
        body: Body::new(body, truncated, wire_size),
    })
}

fn chunked_complete(raw: &[u8]) -> bool {
    raw.ends_with(b"0\r\n\r\n")
}

/// Decodes a chunked body, keeping what arrived when the framing is broken.
fn decode_chunked(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let Ok(size) = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
        else {
            break;
        };
        rest = &rest[line_end + 2..];
        if size == 0 || rest.len() < size {
            out.extend_from_slice(&rest[..size.min(rest.len())]);
            break;
        }
        out.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..).unwrap_or(&[]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_decode() {
        assert_eq!(
            decode_chunked(b"4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n"),
            b"Wikipedia"
        );
        assert_eq!(decode_chunked(b"4\r\nWi"), b"Wi");
        assert_eq!(decode_chunked(b"zz\r\n"), b"");
        assert!(chunked_complete(b"1\r\na\r\n0\r\n\r\n"));
    }
}
