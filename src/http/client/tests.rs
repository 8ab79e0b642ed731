use super::*;

#[test]
fn query_values_keep_fhir_token_syntax() {
    assert_eq!(
        encode_query("https://fhir.nhs.uk/Id/nhs-number|9000000009"),
        "https://fhir.nhs.uk/Id/nhs-number|9000000009"
    );
    assert_eq!(
        encode_query("<script>x</script>"),
        "%3Cscript%3Ex%3C/script%3E"
    );
    assert_eq!(encode_query("a b&c=d"), "a%20b%26c%3Dd");
}

#[test]
fn gzip_is_decoded_within_the_limit() {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&vec![b'a'; 10_000]).unwrap();
    let compressed = encoder.finish().unwrap();
    let (decoded, truncated) = decode_gzip(&compressed, 20_000).unwrap();
    assert_eq!((decoded.len(), truncated), (10_000, false));
    let (decoded, truncated) = decode_gzip(&compressed, 1_000).unwrap();
    assert_eq!((decoded.len(), truncated), (1_000, true));
    assert!(decode_gzip(b"not gzip", 100).is_err());
}

/// A server that answers the first request on each connection as if it would keep the
/// connection alive, then closes it when the next request arrives, without answering: the
/// race every client meets when a server's keep-alive timeout fires as a request is sent.
async fn one_answer_per_connection() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                if crate::util::read_request_head(&mut stream).await.is_none() {
                    return;
                }
                let answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
                if stream.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
                // Wait for the next request on this connection, then hang up on it.
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer).await;
            });
        }
    });
    (base, connections)
}

#[tokio::test]
async fn a_server_closing_kept_alive_connections_breaks_no_request() {
    let (base, connections) = one_answer_per_connection().await;
    let options = ClientOptions {
        base_url: base,
        timeout: Duration::from_secs(5),
        body_limit: 1024,
        ca_pem: None,
        insecure: false,
        max_in_flight: 1,
        redactor: Redactor::default(),
        client_identity: None,
    };
    let client = HttpClient::new(options, Arc::default()).unwrap();
    let send = |n: u32, method: &str| {
        let mut spec = RequestSpec::get(format!("/{n}"));
        spec.method = method.to_owned();
        spec.body = (method != "GET").then(|| b"{}".to_vec());
        let client = client.clone();
        async move { client.send(ExchangeId(n.to_string()), "", &spec).await }
    };
    // GET leaves a pooled connection; the POST and PATCH would be written onto it and lost.
    let first = send(1, "GET").await;
    let post = send(2, "POST").await;
    let patch = send(3, "PATCH").await;
    // This GET is written onto the pooled connection, loses it, and is sent again.
    let again = send(4, "GET").await;
    for exchange in [&first, &post, &patch, &again] {
        assert_eq!(exchange.status(), Some(200), "{exchange:?}");
    }
    assert!(post.retried.is_none() && patch.retried.is_none());
    let retried = again.retried.as_deref().unwrap_or_default();
    assert!(retried.contains("closed"), "{retried}");
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 4);
}

#[test]
fn a_connection_closed_before_the_request_is_stale_but_a_refused_one_is_not() {
    let protocol = |message: &str| TransportError {
        kind: TransportErrorKind::Protocol,
        message: message.to_string(),
    };
    // What hyper says when a TLS 1.3 server drops the connection after the handshake.
    assert!(is_stale_connection(&protocol(
        "HTTP protocol failure: operation was canceled: connection was not ready"
    )));
    assert!(!is_stale_connection(&protocol(
        "HTTP protocol failure: invalid HTTP version parsed"
    )));
    assert!(!is_stale_connection(&TransportError {
        kind: TransportErrorKind::Tls,
        message: "TLS failure: received fatal alert: CertificateRequired".into(),
    }));
}
