//! `i2server healthcheck`: one HTTP GET to the local server, for container health checks
//! on images without curl (the server image is distroless).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The status code of `GET path` on 127.0.0.1:`port`.
pub fn get(port: u16, path: &str) -> Result<u16, String> {
    let timeout = Duration::from_secs(5);
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    s.set_read_timeout(Some(timeout))
        .and_then(|_| s.set_write_timeout(Some(timeout)))
        .map_err(|e| format!("socket: {e}"))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("cannot send the request: {e}"))?;
    let mut head = [0u8; 64];
    let n = s.read(&mut head).map_err(|e| format!("no answer: {e}"))?;
    let line = String::from_utf8_lossy(&head[..n]);
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {line:?}"))
}
