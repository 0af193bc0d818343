//! How a request reaches the city: [`Http`] (reqwest, blocking; HTTPS with rustls) in the app;
//! the deterministic simulation puts the city in its own process behind a [`Link`] that drops,
//! repeats and delays.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// One request to the city. `url` is the enrolment's server URL plus the path and query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// The city's own CA certificate (PEM) this PC was enrolled to trust for HTTPS, and then
    /// only it; `None`: the operating system's trusted roots.
    pub trust: Option<String>,
    /// How long this request may take in all, when it must be shorter than the link's own
    /// limits (a clerk waiting at the counter).
    pub within: Option<Duration>,
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

/// HTTP(S) with reqwest: connect within 10 s, an answer within 60 s (sync-notes §3.8), zstd
/// answers accepted. One client per trust setting, kept for the app's life, so connections are
/// reused across rounds.
#[derive(Debug, Default)]
pub struct Http {
    clients: Mutex<BTreeMap<Option<String>, reqwest::blocking::Client>>,
}

impl Http {
    fn client(&self, trust: &Option<String>) -> Result<reqwest::blocking::Client, LinkError> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = clients.get(trust) {
            return Ok(c.clone());
        }
        // The ring provider for rustls, once per process (an error only says it is there).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60));
        if let Some(pem) = trust {
            let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| LinkError::Down(format!("sertifikat CA kota tidak terbaca: {e}")))?;
            builder = builder.tls_certs_only(certs);
        }
        let client = builder.build().map_err(|e| LinkError::Down(e.to_string()))?;
        clients.insert(trust.clone(), client.clone());
        Ok(client)
    }
}

impl Link for Http {
    fn send(&self, r: Request) -> Result<Answer, LinkError> {
        let client = self.client(&r.trust)?;
        let method = if r.method == "GET" { reqwest::Method::GET } else { reqwest::Method::POST };
        let mut req = client.request(method, &r.url).body(r.body);
        if let Some(within) = r.within {
            req = req.timeout(within);
        }
        for (name, value) in r.headers {
            req = req.header(name, value);
        }
        let failed = |e: reqwest::Error| {
            if e.is_timeout() {
                LinkError::Timeout(e.to_string())
            } else {
                // The cause (refused, certificate not trusted, …) is what the clerk needs.
                let mut text = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    text = format!("{text}: {s}");
                    source = s.source();
                }
                LinkError::Down(text)
            }
        };
        let res = req.send().map_err(failed)?;
        let status = res.status().as_u16();
        let body = res.bytes().map_err(failed)?.to_vec();
        Ok(Answer { status, body })
    }
}
