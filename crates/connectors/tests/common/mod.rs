//! What the HTTP push tests share: a free port and a POST that returns the status.

use std::time::Duration;

/// A port nothing listens on (the OS's choice).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// POSTs `body` to `url`, with `Authorization: Bearer token` when given; the status.
pub fn post(url: &str, token: Option<&str>, body: impl AsRef<[u8]>) -> u16 {
    post_with(url, token, &[], body)
}

/// [`post`] with more headers.
#[allow(dead_code)] // not every test file uses it
pub fn post_with(
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: impl AsRef<[u8]>,
) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut r = agent.post(url);
    if let Some(t) = token {
        r = r.header("Authorization", &format!("Bearer {t}"));
    }
    for (name, value) in headers {
        r = r.header(*name, *value);
    }
    r.send(body.as_ref()).unwrap().status().as_u16()
}
