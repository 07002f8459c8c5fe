//! `pips serve`: a live dashboard of a job on 127.0.0.1.
//!
//! A small HTTP/1.1 server on std alone (`Connection: close`; each connection served on a
//! thread of its own, at most [`MAX_CONNECTIONS`] at once, each given [`REQUEST_TIME`] to send
//! its request, so that a silent client holds up nobody else), with three resources:
//!
//! * `/`: the page ([`PAGE`], `serve_page.html`). Its script fetches `/frame.json` every second
//!   and shows the task table, the wait-for graph with any deadlock named, each thread's
//!   signals, and the fd diagram fitted to the window; once the job has ended it keeps the last
//!   snapshot, greyed. The diagram's element ids (`T0`, `o5`, `v2`, `e-T0-3`) come from a
//!   [`Tracker`](super::fds::Tracker) kept by the server, so they name the same objects from
//!   one refresh to the next. The page records on its `<body>` how many refreshes it made
//!   (`data-refreshes`), whether an id ever moved to another object (`data-id-conflicts`),
//!   how many tasks and deadlocks it shows and whether the job ended, which is what the
//!   browser tests check.
//! * `/frame.json`: one new snapshot ([`Frame`]): title, SVG, text, warnings, errors,
//!   generation, the job's rows, the wait-for graph, signals, and whether the job has ended.
//! * `/text`: the same snapshot as plain text.
//!
//! Who is answered ([`Access`]): only the user who runs `pips serve` and the owner of the job
//! shown (root included: a server run by root answers root and the job's owner, nobody else).
//! The server looks the peer's socket up in `/proc/net/tcp` and refuses (403) connections owned
//! by anyone else: the diagram shows file names, which other local users should not learn
//! through us. And only requests for a loopback name are answered ([`host_is_loopback`]; 421
//! otherwise), so that a web page whose name was rebound to 127.0.0.1 cannot read it either.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Connections served at once; more get `503 Service Unavailable` at once.
pub const MAX_CONNECTIONS: usize = 16;
/// How long a client may take to send its request (and to take the answer).
pub const REQUEST_TIME: Duration = Duration::from_secs(5);

/// What one refresh shows.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// Title line.
    pub title: String,
    /// The fd diagram.
    pub svg: String,
    /// The same as text.
    pub text: String,
    /// Warnings.
    pub warnings: Vec<String>,
    /// Notes about what could not be read.
    pub errors: Vec<String>,
    /// Snapshot counter.
    pub generation: u64,
    /// The job and its task rows ([`Job::to_json`](super::jobs::Job::to_json)), or null.
    pub job: serde_json::Value,
    /// The wait-for graph ([`Graph::to_json`](super::waits::Graph::to_json)), or null.
    pub waits: serde_json::Value,
    /// Signal state of every row ([`TaskSignals::to_json`](super::signals::TaskSignals::to_json)).
    pub signals: Vec<serde_json::Value>,
    /// The job has ended: this is its last snapshot, kept for reading.
    pub ended: bool,
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
            "job": self.job,
            "waits": self.waits,
            "signals": self.signals,
            "ended": self.ended,
        })
        .to_string()
    }

    /// The frame to show once the job has ended: `last` (the last snapshot taken while it ran,
    /// if any) marked as ended, so that the page keeps it visible.
    pub fn ended(last: Option<&Frame>, title: String, generation: u64) -> Frame {
        let mut f = last.cloned().unwrap_or(Frame {
            title,
            generation,
            ..Frame::default()
        });
        f.ended = true;
        f
    }
}

/// The page served at `/`: a dashboard of the job (tasks, waits, signals, fd diagram) that
/// refreshes itself from `/frame.json` every second. Everything from the job is inserted as
/// text (`textContent`), never as markup, except the SVG that pips itself drew.
pub const PAGE: &str = include_str!("serve_page.html");

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

/// Which local users a server answers: the one running it and the owner of the job it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// The uid of the server process.
    pub server_uid: u32,
    /// The uid that owns the job shown, when known (it may always look at its own job).
    pub job_uid: Option<u32>,
}

impl Access {
    /// Whether a connection whose socket belongs to `peer` may be answered. `None` (the
    /// connection could not be found in `/proc/net/tcp`) is refused. Being root gives no
    /// exception either way: a root server answers root and the job's owner only.
    pub fn allows(&self, peer: Option<u32>) -> bool {
        peer.is_some_and(|p| p == self.server_uid || Some(p) == self.job_uid)
    }

    fn refusal(&self) -> String {
        match self.job_uid {
            Some(j) if j != self.server_uid => format!(
                "pips serve answers only the user who started it (uid {}) and the job's owner (uid {j})\n",
                self.server_uid
            ),
            _ => format!(
                "pips serve answers only the user who started it (uid {})\n",
                self.server_uid
            ),
        }
    }
}

/// Whether an HTTP `Host:` value names this machine's loopback: `localhost`, an address in
/// 127.0.0.0/8 or `[::1]`, each with or without a port. Anything else (a DNS name rebound to
/// 127.0.0.1 by a web page, say) is refused.
///
/// ```
/// use pip_tools::pips::serve::host_is_loopback;
/// assert!(host_is_loopback("127.0.0.1:8080"));
/// assert!(host_is_loopback("[::1]"));
/// assert!(!host_is_loopback("attacker.example:8080"));
/// ```
pub fn host_is_loopback(host: &str) -> bool {
    let port_ok = |rest: &str| {
        rest.is_empty()
            || rest.strip_prefix(':').is_some_and(|p| {
                !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
            })
    };
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        let Some((addr, after)) = rest.split_once(']') else {
            return false;
        };
        return port_ok(after) && addr.parse::<Ipv6Addr>().is_ok_and(|a| a.is_loopback());
    }
    let name = match host.split_once(':') {
        Some((name, port)) if port_ok(&format!(":{port}")) => name,
        Some(_) => return false,
        None => host,
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<Ipv4Addr>().is_ok_and(|a| a.is_loopback())
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

/// Ends a connection whose request may not have been read: shuts down our side, then reads
/// (briefly) what the client still sends, so that the kernel does not answer unread data with
/// a reset that would destroy the response before the client reads it.
fn close_gently(mut stream: TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut sink = [0u8; 4096];
    let mut left: usize = 64 * 1024;
    while left > 0 {
        match stream.read(&mut sink) {
            Ok(n) if n > 0 => left = left.saturating_sub(n),
            _ => break,
        }
    }
}

/// The parts of a request the server looks at.
#[derive(Debug, PartialEq, Eq)]
struct Request {
    /// `GET`, `POST`, ...
    method: String,
    /// The path, without the query.
    path: String,
    /// The `Host:` header, if any.
    host: Option<String>,
}

/// Why no request could be read.
#[derive(Debug, PartialEq, Eq)]
enum ReadError {
    /// Not a request line we understand.
    Malformed,
    /// The client sent nothing complete within [`REQUEST_TIME`].
    TooSlow,
}

/// Reads a request's head (until the empty line, at most 16 KiB, before `deadline`).
fn read_request(stream: &mut TcpStream, deadline: Instant) -> Result<Request, ReadError> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ReadError::TooSlow);
        }
        let _ = stream.set_read_timeout(Some(left));
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(ReadError::TooSlow)
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Err(ReadError::Malformed),
        }
    }
    parse_request(&String::from_utf8_lossy(&buf)).ok_or(ReadError::Malformed)
}

fn parse_request(head: &str) -> Option<Request> {
    let mut lines = head.lines();
    let mut parts = lines.next()?.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.split('?').next()?.to_string();
    let host = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.trim().to_string());
    Some(Request { method, path, host })
}

/// Answers one connection: the peer's uid, then the request's method, `Host:` and path.
fn handle(
    mut stream: TcpStream,
    peer_port: u16,
    local_port: u16,
    access: Access,
    request_time: Duration,
    frame: &Mutex<impl FnMut() -> Frame>,
) {
    let deadline = Instant::now() + request_time;
    let _ = stream.set_write_timeout(Some(request_time));
    if !access.allows(peer_uid(peer_port, local_port)) {
        respond(
            &mut stream,
            "403 Forbidden",
            "text/plain",
            access.refusal().as_bytes(),
        );
        return close_gently(stream);
    }
    let req = match read_request(&mut stream, deadline) {
        Ok(r) => r,
        Err(ReadError::TooSlow) => {
            respond(
                &mut stream,
                "408 Request Timeout",
                "text/plain",
                b"no request received in time\n",
            );
            return close_gently(stream);
        }
        Err(ReadError::Malformed) => {
            respond(
                &mut stream,
                "400 Bad Request",
                "text/plain",
                b"bad request\n",
            );
            return close_gently(stream);
        }
    };
    match req.host.as_deref() {
        Some(h) if host_is_loopback(h) => {}
        Some(h) => {
            let body = format!(
                "pips serve answers only requests for localhost, 127.0.0.1 or [::1], not for `{h}`\n"
            );
            return respond(
                &mut stream,
                "421 Misdirected Request",
                "text/plain",
                body.as_bytes(),
            );
        }
        None => {
            return respond(
                &mut stream,
                "400 Bad Request",
                "text/plain",
                b"a Host header is required\n",
            )
        }
    }
    if req.method != "GET" {
        return respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"only GET is served\n",
        );
    }
    let snapshot = || (frame.lock().unwrap_or_else(|e| e.into_inner()))();
    match req.path.as_str() {
        "/" | "/index.html" => respond(
            &mut stream,
            "200 OK",
            "text/html; charset=utf-8",
            PAGE.as_bytes(),
        ),
        "/frame.json" => respond(
            &mut stream,
            "200 OK",
            "application/json",
            snapshot().to_json().as_bytes(),
        ),
        "/text" => respond(
            &mut stream,
            "200 OK",
            "text/plain; charset=utf-8",
            snapshot().text.as_bytes(),
        ),
        _ => respond(&mut stream, "404 Not Found", "text/plain", b"not found\n"),
    }
}

/// Serves the page on `listener` until `stop` is set (checked between connections, and every
/// 200 ms while idle), answering only whom `access` allows. Each connection is served on a
/// thread of its own (at most [`MAX_CONNECTIONS`] at once); `frame` makes one snapshot per
/// request of `/frame.json` or `/text`, one request at a time. Returns once every connection
/// has been answered.
pub fn serve(
    listener: TcpListener,
    stop: &AtomicBool,
    access: Access,
    frame: impl FnMut() -> Frame + Send,
) -> std::io::Result<()> {
    serve_with(listener, stop, access, REQUEST_TIME, frame)
}

/// [`serve`], giving each client `request_time` to send its request.
fn serve_with(
    listener: TcpListener,
    stop: &AtomicBool,
    access: Access,
    request_time: Duration,
    frame: impl FnMut() -> Frame + Send,
) -> std::io::Result<()> {
    let local_port = listener.local_addr()?.port();
    listener.set_nonblocking(true)?;
    let frame = Mutex::new(frame);
    let active = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        while !stop.load(Ordering::Relaxed) {
            let (mut stream, peer) = match listener.accept() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(200));
                    continue;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let _ = stream.set_nonblocking(false);
            if active.load(Ordering::Acquire) >= MAX_CONNECTIONS {
                let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
                respond(
                    &mut stream,
                    "503 Service Unavailable",
                    "text/plain",
                    b"too many connections at once; try again\n",
                );
                continue;
            }
            active.fetch_add(1, Ordering::AcqRel);
            let (frame, active) = (&frame, &active);
            let spawned = std::thread::Builder::new()
                .name("pips-serve".into())
                .spawn_scoped(scope, move || {
                    handle(stream, peer.port(), local_port, access, request_time, frame);
                    active.fetch_sub(1, Ordering::AcqRel);
                });
            if spawned.is_err() {
                active.fetch_sub(1, Ordering::AcqRel);
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests;
