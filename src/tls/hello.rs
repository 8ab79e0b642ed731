//! ClientHello / ServerHello wire format (RFC 5246 §7.4), just enough to offer a legacy protocol
//! or a weak cipher suite and read the server's answer — or, in the sandbox, to read what a
//! client offers.

pub const SSL_3_0: u16 = 0x0300;
pub const TLS_1_0: u16 = 0x0301;
pub const TLS_1_1: u16 = 0x0302;
pub const TLS_1_2: u16 = 0x0303;
pub const TLS_1_3: u16 = 0x0304;

/// Cipher suites mts offers when probing, with their IANA names.
pub const SUITE_NAMES: &[(u16, &str)] = &[
    (0x0001, "TLS_RSA_WITH_NULL_MD5"),
    (0x0002, "TLS_RSA_WITH_NULL_SHA"),
    (0x0004, "TLS_RSA_WITH_RC4_128_MD5"),
    (0x0005, "TLS_RSA_WITH_RC4_128_SHA"),
    (0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0x0018, "TLS_DH_anon_WITH_RC4_128_MD5"),
    (0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA"),
    (0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA"),
    (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"),
    (0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256"),
    (0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256"),
    (0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"),
    (0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
    (0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    (0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
    (0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"),
    (0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    (0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    (0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
];

/// Suites a legacy-protocol probe offers: what TLS 1.0/1.1 servers commonly accept.
pub const LEGACY_SUITES: &[u16] = &[
    0xC013, 0xC014, 0xC009, 0x0033, 0x002F, 0x0035, 0x000A, 0x0005,
];

/// Weak suites, each offered alone: NULL, RC4, 3DES, anonymous, and static-RSA (no forward secrecy).
pub const WEAK_SUITES: &[u16] = &[0x0001, 0x0005, 0x000A, 0x0018, 0x003C, 0x0035, 0x009C];

pub fn suite_name(code: u16) -> String {
    SUITE_NAMES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or_else(|| format!("0x{code:04X}"), |(_, n)| (*n).to_owned())
}

pub fn version_name(version: u16) -> &'static str {
    match version {
        SSL_3_0 => "SSLv3",
        TLS_1_0 => "TLS 1.0",
        TLS_1_1 => "TLS 1.1",
        TLS_1_2 => "TLS 1.2",
        TLS_1_3 => "TLS 1.3",
        _ => "unknown",
    }
}

fn push_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

fn with_u16_length(out: &mut Vec<u8>, body: &[u8]) {
    push_u16(out, body.len() as u16);
    out.extend_from_slice(body);
}

fn extension(out: &mut Vec<u8>, kind: u16, body: &[u8]) {
    push_u16(out, kind);
    with_u16_length(out, body);
}

/// A complete ClientHello record offering `version` and `suites`. `server_name` is sent as SNI
/// when it is a DNS name.
pub fn client_hello(
    version: u16,
    suites: &[u16],
    server_name: Option<&str>,
    random: [u8; 32],
) -> Vec<u8> {
    let mut body = Vec::new();
    push_u16(&mut body, version);
    body.extend_from_slice(&random);
    body.push(0); // empty session id
    let suite_bytes: Vec<u8> = suites.iter().flat_map(|s| s.to_be_bytes()).collect();
    with_u16_length(&mut body, &suite_bytes);
    body.extend_from_slice(&[1, 0]); // compression: null only
    if version > SSL_3_0 {
        let mut extensions = Vec::new();
        if let Some(name) = server_name.filter(|n| n.parse::<std::net::IpAddr>().is_err()) {
            let mut entry = vec![0u8];
            with_u16_length(&mut entry, name.as_bytes());
            let mut list = Vec::new();
            with_u16_length(&mut list, &entry);
            extension(&mut extensions, 0x0000, &list);
        }
        let mut groups = Vec::new();
        with_u16_length(&mut groups, &[0x00, 0x1d, 0x00, 0x17, 0x00, 0x18]);
        extension(&mut extensions, 0x000a, &groups);
        extension(&mut extensions, 0x000b, &[1, 0]);
        if version >= TLS_1_2 {
            let mut algorithms = Vec::new();
            with_u16_length(
                &mut algorithms,
                &[
                    0x04, 0x01, 0x08, 0x04, 0x04, 0x03, 0x05, 0x01, 0x02, 0x01, 0x02, 0x03,
                ],
            );
            extension(&mut extensions, 0x000d, &algorithms);
        }
        extension(&mut extensions, 0xff01, &[0]);
        with_u16_length(&mut body, &extensions);
    }
    let mut handshake = vec![1u8];
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16];
    push_u16(
        &mut record,
        if version == SSL_3_0 { SSL_3_0 } else { TLS_1_0 },
    );
    with_u16_length(&mut record, &handshake);
    record
}

/// What a server answered to a ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerAnswer {
    /// A ServerHello choosing this protocol and suite.
    Hello { version: u16, suite: u16 },
    /// A TLS alert (level, description).
    Alert { level: u8, description: u8 },
    /// Something that is not TLS.
    Garbage,
}

/// Parses the first record a server sends back. `None` while more bytes are needed.
pub fn parse_server_answer(bytes: &[u8]) -> Option<ServerAnswer> {
    if bytes.len() < 5 {
        return None;
    }
    let kind = bytes[0];
    let length = u16::from_be_bytes([bytes[3], bytes[4]]) as usize;
    match kind {
        0x15 if bytes.len() >= 7 => Some(ServerAnswer::Alert {
            level: bytes[5],
            description: bytes[6],
        }),
        0x15 => None,
        0x16 => {
            // ServerHello: type(1) length(3) version(2) random(32) session_id(1+n) suite(2)
            let body = bytes.get(5..)?;
            if body.len() < 39 {
                return if body.len() >= length.min(39) && length < 39 {
                    Some(ServerAnswer::Garbage)
                } else {
                    None
                };
            }
            if body[0] != 2 {
                return Some(ServerAnswer::Garbage);
            }
            let version = u16::from_be_bytes([body[4], body[5]]);
            let session_len = body[38] as usize;
            let suite_at = 39 + session_len;
            let suite = u16::from_be_bytes([*body.get(suite_at)?, *body.get(suite_at + 1)?]);
            Some(ServerAnswer::Hello { version, suite })
        }
        _ => Some(ServerAnswer::Garbage),
    }
}

/// What a client offered, read from its first record (for the sandbox's legacy responder).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOffer {
    /// Highest protocol offered (from supported_versions when present).
    pub max_version: u16,
    pub suites: Vec<u16>,
}

/// Parses a ClientHello record. `None` if incomplete or not a ClientHello.
pub fn parse_client_hello(bytes: &[u8]) -> Option<ClientOffer> {
    if bytes.len() < 5 || bytes[0] != 0x16 {
        return None;
    }
    let length = u16::from_be_bytes([bytes[3], bytes[4]]) as usize;
    let body = bytes.get(5..5 + length)?;
    if body.first() != Some(&1) {
        return None;
    }
    let hello = body.get(4..)?;
    let legacy_version = u16::from_be_bytes([*hello.first()?, *hello.get(1)?]);
    let mut at = 2 + 32;
    let session_len = *hello.get(at)? as usize;
    at += 1 + session_len;
    let suites_len = u16::from_be_bytes([*hello.get(at)?, *hello.get(at + 1)?]) as usize;
    at += 2;
    let suites: Vec<u16> = hello
        .get(at..at + suites_len)?
        .chunks(2)
        .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
        .collect();
    at += suites_len;
    let compression_len = *hello.get(at)? as usize;
    at += 1 + compression_len;
    let mut max_version = legacy_version;
    if let Some(length_bytes) = hello.get(at..at + 2) {
        let total = u16::from_be_bytes([length_bytes[0], length_bytes[1]]) as usize;
        let mut extensions = hello.get(at + 2..at + 2 + total).unwrap_or(&[]);
        while extensions.len() >= 4 {
            let kind = u16::from_be_bytes([extensions[0], extensions[1]]);
            let len = u16::from_be_bytes([extensions[2], extensions[3]]) as usize;
            let data = extensions.get(4..4 + len).unwrap_or(&[]);
            if kind == 0x002b && !data.is_empty() {
                max_version = data[1..]
                    .chunks(2)
                    .filter(|c| c.len() == 2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .filter(|v| v & 0x0f0f != 0x0a0a && *v <= TLS_1_3)
                    .max()
                    .unwrap_or(max_version);
            }
            extensions = extensions.get(4 + len..).unwrap_or(&[]);
        }
    }
    Some(ClientOffer {
        max_version,
        suites,
    })
}

/// A minimal ServerHello record choosing `version` and `suite` (the sandbox's emulation of a
/// server that accepts what it should not).
pub fn server_hello(version: u16, suite: u16) -> Vec<u8> {
    let mut body = Vec::new();
    push_u16(&mut body, version);
    body.extend_from_slice(&[0x5a; 32]);
    body.push(0);
    push_u16(&mut body, suite);
    body.push(0);
    let mut handshake = vec![2u8];
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16];
    push_u16(&mut record, version.min(TLS_1_2));
    with_u16_length(&mut record, &handshake);
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_hello_round_trips() {
        let hello = client_hello(TLS_1_0, LEGACY_SUITES, Some("api.example.nhs.uk"), [7; 32]);
        let offer = parse_client_hello(&hello).unwrap();
        assert_eq!(offer.max_version, TLS_1_0);
        assert_eq!(offer.suites, LEGACY_SUITES);
        let ssl3 = client_hello(SSL_3_0, &[0x000A], None, [7; 32]);
        assert_eq!(parse_client_hello(&ssl3).unwrap().max_version, SSL_3_0);
    }

    #[test]
    fn server_answers_are_read() {
        assert_eq!(
            parse_server_answer(&server_hello(TLS_1_0, 0xC013)),
            Some(ServerAnswer::Hello {
                version: TLS_1_0,
                suite: 0xC013
            })
        );
        assert_eq!(
            parse_server_answer(&[0x15, 3, 1, 0, 2, 2, 70]),
            Some(ServerAnswer::Alert {
                level: 2,
                description: 70
            })
        );
        assert_eq!(parse_server_answer(&[0x15, 3, 1]), None);
        assert_eq!(
            parse_server_answer(b"HTTP/1.1 400 Bad Request\r\n"),
            Some(ServerAnswer::Garbage)
        );
    }

    #[test]
    fn names_are_known() {
        assert_eq!(suite_name(0x0001), "TLS_RSA_WITH_NULL_MD5");
        assert_eq!(version_name(TLS_1_1), "TLS 1.1");
        assert_eq!(suite_name(0x1234), "0x1234");
    }
}
