//! `balai serve`: the UI and the command table over HTTP on 127.0.0.1 only.
//!
//! One route runs commands (`POST /api/<command>`, JSON arguments, `Authorization: Bearer
//! <session token>`); everything else is the built UI. Requests whose `Host` or `Origin` is not
//! loopback are refused, so a web page elsewhere cannot drive the office database through a
//! resident's browser (DNS rebinding, cross-site requests).

#![allow(clippy::print_stdout)] // the address is the command's output

use crate::args::ServeArgs;
use anyhow::Context;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use balai_app::{ApiError, App, Caller, ErrorCode};
use serde_json::Value;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tower_http::services::{ServeDir, ServeFile};

pub fn run(app: Arc<App>, args: &ServeArgs, json: bool) -> anyhow::Result<ExitCode> {
    let ui_dir = args.ui_dir.clone().unwrap_or_else(|| PathBuf::from("ui/dist"));
    if !ui_dir.join("index.html").exists() {
        anyhow::bail!(
            "no built UI at {} (build it with `npm run build` in ui/, or pass --ui-dir)",
            ui_dir.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], args.port)))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
        let addr = listener.local_addr()?;
        let url = format!("http://{addr}/");
        if json {
            println!("{}", serde_json::json!({ "address": url }));
        } else {
            println!("Balai berjalan di {url}  (Ctrl+C untuk berhenti)");
        }
        std::io::stdout().flush()?;
        axum::serve(listener, router(app, ui_dir))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// The largest request body: far above any register an office has, below what would strain
/// the machine (the server listens on loopback only).
const UPLOAD_LIMIT: usize = 256 * 1024 * 1024;

pub fn router(app: Arc<App>, ui_dir: PathBuf) -> Router {
    let static_files = ServeDir::new(&ui_dir).fallback(ServeFile::new(ui_dir.join("index.html")));
    Router::new()
        .route("/api/{command}", post(call))
        // A whole register travels in one import request (a 100,000-row CSV is ~15 MB, its
        // workbook in base64 more); axum's 2 MB default would refuse an office's real file.
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT))
        .layer(middleware::from_fn(declared_length_within_limit))
        .fallback_service(static_files)
        .layer(middleware::from_fn(loopback_only))
        .with_state(app)
}

async fn call(
    State(app): State<Arc<App>>,
    Path(command): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    // JSON only: a form or plain text is what a page of another site can send without the
    // browser asking first (the Host and Origin checks stop those too; this is the second lock).
    let declared = headers.get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or(""));
    if declared.is_some_and(|t| {
        !t.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    }) {
        let e = ApiError::new(
            ErrorCode::BadArguments,
            "Badan permintaan harus JSON (Content-Type: application/json).",
        );
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, Json(serde_json::json!({ "error": e })))
            .into_response();
    }
    let args: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return error_response(ApiError::new(
                    ErrorCode::BadArguments,
                    format!("Badan permintaan bukan JSON: {e}"),
                ))
            }
        }
    };
    let result = tokio::task::spawn_blocking(move || {
        balai_app::dispatch(&app, &Caller::Session(token), &command, args)
    })
    .await;
    match result {
        Ok(Ok(v)) => Json(v).into_response(),
        Ok(Err(e)) => error_response(e),
        Err(_) => {
            error_response(ApiError::new(ErrorCode::Internal, "Perintah berhenti tak terduga."))
        }
    }
}

fn error_response(e: ApiError) -> Response {
    let status = match e.code {
        ErrorCode::InvalidInput | ErrorCode::BadArguments => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::UnknownCommand | ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Unauthenticated | ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
        ErrorCode::SessionLocked => StatusCode::LOCKED,
        ErrorCode::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::Conflict | ErrorCode::NotInitialized => StatusCode::CONFLICT,
        ErrorCode::NotAvailable => StatusCode::NOT_IMPLEMENTED,
        ErrorCode::DatabaseBusy => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::DiskFull | ErrorCode::ReadOnly => StatusCode::INSUFFICIENT_STORAGE,
        ErrorCode::DatabaseTooNew
        | ErrorCode::KeyMissing
        | ErrorCode::WrongKey
        | ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, Json(serde_json::json!({ "error": e }))).into_response()
}

/// A body declared larger than the limit is refused before a byte of it is read (the limit
/// itself would refuse it only after reading 256 MB).
async fn declared_length_within_limit(req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > UPLOAD_LIMIT as u64) {
        let e = ApiError::new(
            ErrorCode::BadArguments,
            format!("Isi permintaan lebih dari {} MB.", UPLOAD_LIMIT / (1024 * 1024)),
        );
        return (StatusCode::PAYLOAD_TOO_LARGE, Json(serde_json::json!({ "error": e })))
            .into_response();
    }
    next.run(req).await
}

/// `true` for `127.0.0.1`, `localhost` and `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
    };
    matches!(name, "127.0.0.1" | "localhost" | "::1")
}

async fn loopback_only(req: Request, next: Next) -> Response {
    let host_ok =
        req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).is_some_and(is_loopback_host);
    let origin_ok = match req.headers().get(header::ORIGIN).map(|o| o.to_str()) {
        None => true,
        Some(Ok(origin)) => origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(is_loopback_host),
        Some(Err(_)) => false,
    };
    if host_ok && origin_ok {
        next.run(req).await
    } else {
        (StatusCode::FORBIDDEN, "Balai hanya melayani permintaan dari komputer ini (loopback).")
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn only_loopback_names_pass() {
        for ok in ["127.0.0.1:8780", "localhost:1", "localhost", "[::1]:80", "127.0.0.1"] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:8780",
            "127.0.0.1.evil.example",
            "10.0.0.1:8780",
            "",
            "[::2]:80",
            "localhost.evil:1",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }
}
