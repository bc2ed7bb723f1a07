//! Following one log file: new complete lines since the last read, by byte offset.
//!
//! Files are only ever appended to (the worker opens its log in append mode) or replaced;
//! a file shorter than the offset was replaced, so reading starts again from its start.

use std::io::SeekFrom;
use std::path::PathBuf;

use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Longest line sent; the rest of a longer line is dropped.
pub const MAX_LINE: usize = 64 * 1024;

/// Most bytes read from one file per tick, so one runaway log cannot stall the stream
/// (the rest is read on later ticks).
const MAX_READ: u64 = 1 << 20;

pub struct Tail {
    pub name: &'static str,
    path: PathBuf,
    offset: u64,
    /// Bytes of a line whose end has not been written yet.
    partial: Vec<u8>,
    /// The current line passed [`MAX_LINE`]; its remainder is skipped.
    overflow: bool,
    /// The last read stopped at [`MAX_READ`] with more to come.
    pub behind: bool,
}

async fn size_of(path: &PathBuf) -> Option<u64> {
    tokio::fs::metadata(path).await.ok().map(|m| m.len())
}

impl Tail {
    /// Follow `path` from its current end (`from_start`: from its first byte).
    pub async fn new(name: &'static str, path: PathBuf, from_start: bool) -> Tail {
        let offset = if from_start {
            0
        } else {
            size_of(&path).await.unwrap_or(0)
        };
        Tail {
            name,
            path,
            offset,
            partial: Vec::new(),
            overflow: false,
            behind: false,
        }
    }

    /// Lines completed since the last call. With `flush` (the writer has exited), an
    /// unterminated last line counts too once everything is read.
    pub async fn read_lines(&mut self, flush: bool) -> Vec<String> {
        let mut out = Vec::new();
        match self.read_new().await {
            Ok(bytes) => self.split(&bytes, &mut out),
            // Not there (yet) is normal; anything else is worth a note but not the stream.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(file = %self.path.display(), error = %e, "cannot read job log")
            }
        }
        if flush && !self.behind && (!self.partial.is_empty() || self.overflow) {
            out.push(self.take_line());
        }
        out
    }

    async fn read_new(&mut self) -> std::io::Result<Vec<u8>> {
        self.behind = false;
        let len = tokio::fs::metadata(&self.path).await?.len();
        if len < self.offset {
            self.offset = 0;
            self.partial.clear();
            self.overflow = false;
        }
        if len == self.offset {
            return Ok(Vec::new());
        }
        let want = (len - self.offset).min(MAX_READ);
        let mut f = tokio::fs::File::open(&self.path).await?;
        f.seek(SeekFrom::Start(self.offset)).await?;
        let mut buf = Vec::with_capacity(want as usize);
        f.take(want).read_to_end(&mut buf).await?;
        self.offset += buf.len() as u64;
        self.behind = self.offset < len;
        Ok(buf)
    }

    fn split(&mut self, mut data: &[u8], out: &mut Vec<String>) {
        while let Some(i) = data.iter().position(|b| *b == b'\n') {
            self.keep(&data[..i]);
            out.push(self.take_line());
            data = &data[i + 1..];
        }
        self.keep(data);
    }

    fn keep(&mut self, bytes: &[u8]) {
        if self.overflow {
            return;
        }
        let room = MAX_LINE - self.partial.len();
        if bytes.len() > room {
            self.partial.extend_from_slice(&bytes[..room]);
            self.overflow = true;
        } else {
            self.partial.extend_from_slice(bytes);
        }
    }

    fn take_line(&mut self) -> String {
        let mut s = String::from_utf8_lossy(&self.partial).into_owned();
        self.partial.clear();
        self.overflow = false;
        if s.ends_with('\r') {
            s.pop();
        }
        // A cut inside a UTF-8 sequence decodes to U+FFFD, which may pass the limit again.
        if s.len() > MAX_LINE {
            let mut end = MAX_LINE;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s.truncate(end);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tail() -> Tail {
        Tail {
            name: "t",
            path: PathBuf::new(),
            offset: 0,
            partial: Vec::new(),
            overflow: false,
            behind: false,
        }
    }

    #[test]
    fn lines_split_across_reads_and_long_lines_truncated() {
        let mut t = tail();
        let mut out = Vec::new();
        t.split(b"one\r\ntw", &mut out);
        t.split(b"o\nthree", &mut out);
        assert_eq!(out, ["one", "two"]);
        let long = vec![b'x'; MAX_LINE + 10];
        t.split(&long, &mut out);
        t.split(b"yyy\nfour\n", &mut out);
        assert_eq!(out[2], "three".to_string() + &"x".repeat(MAX_LINE - 5));
        assert_eq!(out[3], "four");
    }
}
