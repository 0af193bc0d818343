//! How a request reaches the city: [`Http`] (reqwest, blocking) in the app; the deterministic
//! simulation puts the city in its own process behind a [`Link`] that drops, repeats and delays.

use std::sync::OnceLock;
use std::time::Duration;

/// One request to the city. `url` is the enrolment's server URL plus the path and query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// The city's answer, its body decompressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Sent, but no answer in time: the city may or may not have acted on it.
    #[error("waktu habis: {0}")]
    Timeout(String),
    /// Not sent: no connection.
    #[error("{0}")]
    Down(String),
}

pub trait Link: Send + Sync {
    fn send(&self, request: Request) -> Result<Answer, LinkError>;
}

/// HTTP with reqwest: connect within 10 s, an answer within 60 s (sync-notes §3.8), zstd
/// answers accepted. One client per app, so connections are reused across rounds.
#[derive(Debug, Default)]
pub struct Http {
    client: OnceLock<Result<reqwest::blocking::Client, String>>,
}

impl Link for Http {
    fn send(&self, r: Request) -> Result<Answer, LinkError> {
        let client = self.client.get_or_init(|| {
            reqwest::blocking::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(60))
                .build()
                .map_err(|e| e.to_string())
        });
        let client = client.as_ref().map_err(|e| LinkError::Down(e.clone()))?;
        let method = if r.method == "GET" { reqwest::Method::GET } else { reqwest::Method::POST };
        let mut req = client.request(method, &r.url).body(r.body);
        for (name, value) in r.headers {
            req = req.header(name, value);
        }
        let failed = |e: reqwest::Error| {
            if e.is_timeout() {
                LinkError::Timeout(e.to_string())
            } else {
                LinkError::Down(e.to_string())
            }
        };
        let res = req.send().map_err(failed)?;
        let status = res.status().as_u16();
        let body = res.bytes().map_err(failed)?.to_vec();
        Ok(Answer { status, body })
    }
}
