//! `balai`: the office database from the command line, for city IT staff and scripts.
//!
//! What it does: parses arguments into a command of balai-app's table and prints the result,
//! as text for people or, with `--json`, as one JSON document (shapes in docs/cli.md). `balai
//! serve` runs the same command table behind a loopback-only HTTP server for the browser UI.
//!
//! What it does not do: no logic of its own. Every subcommand is one `dispatch` call.

mod args;
mod output;
mod serve;

use anyhow::Context;
use balai_app::{App, Caller, KeyStore, SystemClock};
use clap::Parser;
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let json = cli.json;
    match run(cli) {
        Ok(code) => code,
        Err(e) => output::fail(json, &e),
    }
}

fn run(cli: args::Cli) -> anyhow::Result<ExitCode> {
    let db = match &cli.db {
        Some(p) => p.clone(),
        None => balai_app::default_db_path().context("HOME is not set; pass --db")?,
    };
    if let Some(parent) = db.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
    }
    let keys = KeyStore::from_env().map_err(|e| output::ApiFailure(e.into()))?;
    if let args::Command::Key(args::KeyCmd::Recover) = &cli.command {
        // Before opening: without its key the database cannot be opened at all.
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .context("cannot read the recovery key from stdin")?;
        balai_app::recover_key(&db, &keys, &text).map_err(output::ApiFailure)?;
        return output::print(cli.json, "key.recover", &serde_json::json!({"recovered": true}));
    }
    // `check` and `serve` (a UI starting, like the desktop) check every page first.
    let app = if let args::Command::Check | args::Command::Serve(_) = &cli.command {
        App::open_checked(&db, &keys, Arc::new(SystemClock))
    } else {
        App::open_kept(&db, &keys, Arc::new(SystemClock))
    }
    .map_err(output::ApiFailure)?;
    if let args::Command::Serve(s) = &cli.command {
        return serve::run(Arc::new(app), s, cli.json);
    }
    let os_user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let caller = match &cli.user {
        None => Caller::Operator(os_user),
        Some(user) => {
            let password = std::env::var("BALAI_PASSWORD")
                .context("--user needs the password in $BALAI_PASSWORD")?;
            let login = balai_app::dispatch(
                &app,
                &Caller::Session(None),
                "auth.login",
                serde_json::json!({"username": user, "password": password}),
            )
            .map_err(output::ApiFailure)?;
            Caller::Session(login["token"].as_str().map(str::to_string))
        }
    };
    let call = |name: &str, params| {
        balai_app::dispatch(&app, &caller, name, params).map_err(output::ApiFailure)
    };
    match &cli.command {
        args::Command::Commands => output::commands(cli.json),
        args::Command::Profile(args::ProfileCmd::Set(fields)) => {
            // Change only the fields given: start from the stored profile.
            let current = call("profile.get", serde_json::json!({}))?;
            let base = match current.get("profile") {
                Some(serde_json::Value::Object(m)) => m.clone(),
                _ => anyhow::bail!("the office has no profile yet: run `balai init` first"),
            };
            let out = call("profile.set", args::fields_json(fields, base))?;
            output::print(cli.json, "profile.set", &out)
        }
        args::Command::Init(_)
            if call("app.info", serde_json::json!({}))?["initialized"] == true =>
        {
            anyhow::bail!(
                "this database already has an office profile: change it with `balai profile set`"
            )
        }
        command => {
            let (name, params) = args::to_dispatch(command)?;
            let mut out = if params.get("progress_id").is_some_and(|p| !p.is_null()) {
                with_progress(&call, name, params)?
            } else {
                call(name, params)?
            };
            if let args::Command::Letters(l) = command {
                if let Some(path) = l.pdf_out() {
                    write_pdf(&mut out, path)?;
                }
            }
            output::print(cli.json, name, &out)
        }
    }
}

/// Runs a long command while another thread asks `progress.get` how far it has got, printing
/// each new step to stderr as one JSON line (stdout keeps the command's answer alone).
fn with_progress(
    call: &(dyn Fn(&str, serde_json::Value) -> Result<serde_json::Value, output::ApiFailure>
          + Sync),
    name: &str,
    params: serde_json::Value,
) -> Result<serde_json::Value, output::ApiFailure> {
    let id = serde_json::json!({"id": params["progress_id"]});
    let report = |last: &mut Option<serde_json::Value>| {
        if let Ok(step) = call("progress.get", id.clone()) {
            if last.as_ref() != Some(&step) {
                eprintln!("{step}");
                *last = Some(step);
            }
        }
    };
    std::thread::scope(|s| {
        let running = s.spawn(|| call(name, params));
        let mut last = None;
        while !running.is_finished() {
            report(&mut last);
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        report(&mut last); // the final step: done or failed
        running.join().unwrap_or_else(|_| {
            Err(output::ApiFailure(balai_app::ApiError::new(
                balai_app::ErrorCode::Internal,
                "Perintah berhenti tak terduga.",
            )))
        })
    })
}

/// Writes the letter PDF of `out` to `path` and puts the path in its place in the answer.
fn write_pdf(out: &mut serde_json::Value, path: &std::path::Path) -> anyhow::Result<()> {
    use base64::Engine;
    let b64 = out["pdf_base64"].as_str().unwrap_or_default();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .context("the answer holds no readable PDF")?;
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    if let Some(m) = out.as_object_mut() {
        m.remove("pdf_base64");
        m.insert("pdf".into(), serde_json::json!(path.display().to_string()));
    }
    Ok(())
}
