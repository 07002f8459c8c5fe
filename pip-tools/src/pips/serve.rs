//! `pips serve`: a live page of a job's fd diagram, on 127.0.0.1.
//!
//! A small HTTP/1.1 server on std alone (one connection at a time, `Connection: close`), with
//! three resources:
//!
//! * `/`: the page. Its script fetches `/frame.json` every second and replaces the diagram; the
//!   SVG's element ids (`T0`, `o5`, `v2`, `e-T0-3`) come from a [`Tracker`](super::fds::Tracker)
//!   kept by the server, so they name the same objects from one refresh to the next. The page
//!   records on its `<body>` how many refreshes it made (`data-refreshes`) and whether an id ever
//!   moved to another object (`data-id-conflicts`), which is what the browser test checks.
//! * `/frame.json`: one new snapshot: title, SVG, text, warnings, errors, generation.
//! * `/text`: the same snapshot as plain text.
//!
//! Only the user who runs `pips serve` is answered: the server looks the peer's socket up in
//! `/proc/net/tcp` and refuses connections owned by another uid (the diagram shows file names,
//! which other local users should not learn through us).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What one refresh shows.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// Title line.
    pub title: String,
    /// The diagram.
    pub svg: String,
    /// The same as text.
    pub text: String,
    /// Warnings.
    pub warnings: Vec<String>,
    /// Notes about what could not be read.
    pub errors: Vec<String>,
    /// Snapshot counter.
    pub generation: u64,
}

impl Frame {
    fn to_json(&self) -> String {
        serde_json::json!({
            "title": self.title,
            "svg": self.svg,
            "text": self.text,
            "warnings": self.warnings,
            "errors": self.errors,
            "generation": self.generation,
        })
        .to_string()
    }
}

/// The page served at `/`.
pub const PAGE: &str = r##"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>pips</title>
<style>
body { font-family: sans-serif; margin: 12px; }
#title { font-weight: bold; }
#status { color: #666; font-size: 12px; }
#warnings li { color: #a05a00; }
#errors li { color: #666; }
#diagram { overflow: auto; border: 1px solid #ddd; }
</style></head>
<body data-refreshes="0" data-id-conflicts="0">
<div id="title">pips</div>
<div id="status">loading…</div>
<ul id="warnings"></ul>
<div id="diagram"></div>
<ul id="errors"></ul>
<script>
"use strict";
let refreshes = 0, conflicts = 0;
const keyOf = {};
function list(id, items) {
  const ul = document.getElementById(id);
  ul.replaceChildren(...items.map(t => { const li = document.createElement("li"); li.textContent = t; return li; }));
}
async function tick() {
  try {
    const r = await fetch("/frame.json", { cache: "no-store" });
    const f = await r.json();
    document.getElementById("title").textContent = f.title;
    document.getElementById("diagram").innerHTML = f.svg;
    list("warnings", f.warnings);
    list("errors", f.errors);
    for (const g of document.querySelectorAll("#diagram [data-key]")) {
      if (keyOf[g.id] !== undefined && keyOf[g.id] !== g.dataset.key) conflicts++;
      keyOf[g.id] = g.dataset.key;
    }
    refreshes++;
    document.body.dataset.refreshes = refreshes;
    document.body.dataset.idConflicts = conflicts;
    document.body.dataset.generation = f.generation;
    document.getElementById("status").textContent =
      "refresh " + refreshes + ", snapshot " + f.generation + ", " + new Date().toLocaleTimeString();
  } catch (e) {
    document.getElementById("status").textContent = "cannot refresh: " + e;
  }
  setTimeout(tick, 1000);
}
tick();
</script>
</body></html>
"##;

/// The uid that owns the TCP connection whose local end (seen from the peer) is `peer_port`
/// and whose other end is our `local_port`, from `/proc/net/tcp` (and `tcp6`).
pub fn peer_uid(peer_port: u16, local_port: u16) -> Option<u32> {
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(s) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in s.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 8 {
                continue;
            }
            let port = |a: &str| {
                a.rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok())
            };
            if port(f[1]) == Some(peer_port) && port(f[2]) == Some(local_port) {
                return f[7].parse().ok();
            }
        }
    }
    None
}

fn respond(stream: &mut TcpStream, status: &str, ctype: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

/// Reads a request's first line and returns its path (`/frame.json`), ignoring the rest.
fn request_path(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let line = String::from_utf8_lossy(&buf);
    let mut parts = line.lines().next()?.split_whitespace();
    if parts.next()? != "GET" {
        return None;
    }
    Some(parts.next()?.split('?').next()?.to_string())
}

/// Serves the page on `listener` until `stop` is set (checked between connections, and every
/// 200 ms while idle). `frame` makes one snapshot per request of `/frame.json` or `/text`.
pub fn serve(
    listener: TcpListener,
    stop: &AtomicBool,
    mut frame: impl FnMut() -> Frame,
) -> std::io::Result<()> {
    let local_port = listener.local_addr()?.port();
    listener.set_nonblocking(true)?;
    // SAFETY: getuid cannot fail.
    let me = unsafe { libc::getuid() };
    while !stop.load(Ordering::Relaxed) {
        let (mut stream, peer) = match listener.accept() {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(200));
                continue;
            }
            Err(e) => return Err(e),
        };
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
        if me != 0 && peer_uid(peer.port(), local_port) != Some(me) {
            respond(
                &mut stream,
                "403 Forbidden",
                "text/plain",
                b"pips serve answers only the user who started it\n",
            );
            continue;
        }
        match request_path(&mut stream).as_deref() {
            Some("/") | Some("/index.html") => respond(
                &mut stream,
                "200 OK",
                "text/html; charset=utf-8",
                PAGE.as_bytes(),
            ),
            Some("/frame.json") => {
                let f = frame();
                respond(
                    &mut stream,
                    "200 OK",
                    "application/json",
                    f.to_json().as_bytes(),
                )
            }
            Some("/text") => {
                let f = frame();
                respond(
                    &mut stream,
                    "200 OK",
                    "text/plain; charset=utf-8",
                    f.text.as_bytes(),
                )
            }
            Some(_) => respond(&mut stream, "404 Not Found", "text/plain", b"not found\n"),
            None => respond(
                &mut stream,
                "400 Bad Request",
                "text/plain",
                b"bad request\n",
            ),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_page_and_frames() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let h = std::thread::spawn(move || {
            let mut n = 0;
            serve(l, &s2, || {
                n += 1;
                Frame {
                    title: format!("t{n}"),
                    generation: n,
                    ..Frame::default()
                }
            })
        });
        let get = |path: &str| {
            let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
            write!(c, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let mut s = String::new();
            c.read_to_string(&mut s).unwrap();
            s
        };
        assert!(get("/").contains("frame.json"));
        assert!(get("/frame.json").contains("\"generation\":1"));
        assert!(get("/frame.json").contains("\"generation\":2"));
        assert!(get("/nope").starts_with("HTTP/1.1 404"));
        stop.store(true, Ordering::Relaxed);
        h.join().unwrap().unwrap();
    }
}
