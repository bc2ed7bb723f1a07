//! A small W3C WebDriver client for the Firefox UI test (geckodriver on loopback): plain
//! HTTP/1.1 over a `TcpStream`, JSON in and out, one request per connection. Only what the
//! test needs: a session, navigation, elements, clicks, typing, scripts.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The key W3C WebDriver names element references with.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
pub const ENTER: &str = "\u{E007}";

/// One request to the driver: the `value` of its answer, or the driver's error in words.
fn call(port: u16, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(|e| e.to_string())?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| format!("send {method} {path}: {e}"))?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)
        .map_err(|e| format!("read {method} {path}: {e}"))?;
    let text = String::from_utf8_lossy(&buf);
    let (head, payload) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{method} {path}: no HTTP answer"))?;
    let payload = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        crate::common::dechunk(payload)
    } else {
        payload.to_string()
    };
    let v: Value = serde_json::from_str(&payload)
        .map_err(|e| format!("{method} {path}: not JSON ({e}): {payload}"))?;
    let value = v.get("value").cloned().unwrap_or(Value::Null);
    if let Some(err) = value.get("error").and_then(Value::as_str) {
        let msg = value.get("message").and_then(Value::as_str).unwrap_or("");
        return Err(format!("{method} {path}: {err}: {msg}"));
    }
    Ok(value)
}

/// Whether the driver on `port` answers `GET /status` as ready, polled up to `secs`.
pub fn wait_ready(port: u16, secs: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if call(port, "GET", "/status", None)
            .is_ok_and(|v| v.get("ready").and_then(Value::as_bool) == Some(true))
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// A browser session; ended (the browser closed by its driver) when dropped.
pub struct Session {
    port: u16,
    id: String,
}

impl Session {
    /// A new session with these capabilities (`alwaysMatch`).
    pub fn new(port: u16, capabilities: Value) -> Result<Session, String> {
        let v = call(
            port,
            "POST",
            "/session",
            Some(&json!({"capabilities": {"alwaysMatch": capabilities}})),
        )?;
        let id = v
            .get("sessionId")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("no sessionId in {v}"))?
            .to_string();
        Ok(Session { port, id })
    }

    fn cmd(&self, method: &str, rest: &str, body: Option<Value>) -> Result<Value, String> {
        call(
            self.port,
            method,
            &format!("/session/{}{rest}", self.id),
            body.as_ref(),
        )
    }

    pub fn goto(&self, url: &str) -> Result<(), String> {
        self.cmd("POST", "/url", Some(json!({"url": url})))
            .map(drop)
    }

    pub fn url(&self) -> Result<String, String> {
        Ok(self
            .cmd("GET", "/url", None)?
            .as_str()
            .unwrap_or("")
            .to_string())
    }

    /// The first element matching a CSS selector, waiting up to `secs` for it.
    pub fn find(&self, css: &str, secs: u64) -> Result<String, String> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            match self.cmd(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            ) {
                Ok(v) => {
                    return v
                        .get(ELEMENT)
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .ok_or_else(|| format!("no element reference in {v}"));
                }
                Err(e) if Instant::now() > deadline => return Err(format!("{css}: {e}")),
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    pub fn click(&self, el: &str) -> Result<(), String> {
        self.cmd("POST", &format!("/element/{el}/click"), Some(json!({})))
            .map(drop)
    }

    pub fn type_text(&self, el: &str, text: &str) -> Result<(), String> {
        self.cmd(
            "POST",
            &format!("/element/{el}/value"),
            Some(json!({"text": text})),
        )
        .map(drop)
    }

    pub fn text(&self, el: &str) -> Result<String, String> {
        Ok(self
            .cmd("GET", &format!("/element/{el}/text"), None)?
            .as_str()
            .unwrap_or("")
            .to_string())
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page: its return value.
    pub fn run(&self, script: &str, args: Value) -> Result<Value, String> {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Polls `script` until it returns something truthy (bounded by `secs`).
    pub fn wait_for(&self, what: &str, script: &str, secs: u64) -> Result<Value, String> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let v = self.run(script, json!([]))?;
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return Ok(v);
            }
            if Instant::now() > deadline {
                return Err(format!("timed out waiting for {what}"));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    pub fn wait_url(
        &self,
        what: &str,
        test: impl Fn(&str) -> bool,
        secs: u64,
    ) -> Result<String, String> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let u = self.url()?;
            if test(&u) {
                return Ok(u);
            }
            if Instant::now() > deadline {
                return Err(format!("timed out waiting for {what}; at {u}"));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self) -> Result<Vec<u8>, String> {
        use base64::Engine;
        let b64 = self.cmd("GET", "/screenshot", None)?;
        base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap_or(""))
            .map_err(|e| e.to_string())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = call(self.port, "DELETE", &format!("/session/{}", self.id), None);
    }
}
