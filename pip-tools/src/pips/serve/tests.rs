use super::*;
use std::sync::Arc;

#[test]
fn an_ended_job_keeps_its_last_snapshot() {
    let last = Frame {
        title: "job 7 (x)".into(),
        svg: "<svg id=\"pips-fds\"></svg>".into(),
        generation: 4,
        job: serde_json::json!({"tasks": [1, 2]}),
        ..Frame::default()
    };
    let f = Frame::ended(Some(&last), "job 7 has ended".into(), 5);
    assert!(f.ended);
    assert_eq!((f.title.as_str(), f.generation), ("job 7 (x)", 4));
    assert_eq!(f.svg, last.svg);
    let json: serde_json::Value = serde_json::from_str(&f.to_json()).unwrap();
    assert_eq!(json["ended"], true);
    assert_eq!(json["job"]["tasks"][1], 2);
    // With nothing seen before, the page says so.
    let f = Frame::ended(None, "job 7 has ended".into(), 0);
    assert!(f.ended && f.title == "job 7 has ended" && f.svg.is_empty());
}

fn me() -> Access {
    Access {
        server_uid: crate::pips::procfs::my_uid(),
        job_uid: None,
    }
}

/// A server on a free port, stopped (and joined) when dropped.
struct Running {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Running {
    fn start(access: Access, request_time: Duration) -> Running {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut n = 0;
            serve_with(l, &s2, access, request_time, move || {
                n += 1;
                Frame {
                    title: format!("t{n}"),
                    generation: n,
                    ..Frame::default()
                }
            })
        });
        Running {
            port,
            stop,
            thread: Some(thread),
        }
    }

    /// Sends `request` on a new connection and returns the whole answer.
    fn ask(&self, request: &str) -> String {
        let mut c = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        c.write_all(request.as_bytes()).unwrap();
        let mut s = String::new();
        c.read_to_string(&mut s).unwrap();
        s
    }

    fn get(&self, path: &str, host: &str) -> String {
        self.ask(&format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let r = self.thread.take().unwrap().join().unwrap();
        if !std::thread::panicking() {
            r.unwrap();
        }
    }
}

#[test]
fn serves_page_and_frames() {
    let s = Running::start(me(), REQUEST_TIME);
    assert!(s.get("/", "127.0.0.1").contains("frame.json"));
    assert!(s
        .get("/frame.json", "localhost")
        .contains("\"generation\":1"));
    assert!(s
        .get("/frame.json?x=1", "127.0.0.1:8080")
        .contains("\"generation\":2"));
    assert!(s.get("/nope", "[::1]").starts_with("HTTP/1.1 404"));
}

#[test]
fn the_peer_rule_gives_root_no_exception() {
    let root = Access {
        server_uid: 0,
        job_uid: None,
    };
    assert!(root.allows(Some(0)));
    assert!(!root.allows(Some(1000)), "root's server answered uid 1000");
    assert!(!root.allows(None));
    let roots_view_of_a_users_job = Access {
        server_uid: 0,
        job_uid: Some(1000),
    };
    assert!(roots_view_of_a_users_job.allows(Some(0)));
    assert!(roots_view_of_a_users_job.allows(Some(1000)));
    assert!(!roots_view_of_a_users_job.allows(Some(1001)));
    let user = Access {
        server_uid: 1000,
        job_uid: Some(1000),
    };
    assert!(user.allows(Some(1000)));
    assert!(!user.allows(Some(0)));
    assert!(!user.allows(Some(1001)));
    assert!(!user.allows(None));
    assert!(roots_view_of_a_users_job
        .refusal()
        .contains("uid 0) and the job's owner (uid 1000)"));
}

#[test]
fn only_loopback_hosts_are_accepted() {
    for ok in [
        "localhost",
        "LOCALHOST:80",
        "localhost.",
        "127.0.0.1",
        "127.0.0.1:34567",
        "127.1.2.3:1",
        "[::1]",
        "[::1]:8080",
        " 127.0.0.1 ",
    ] {
        assert!(host_is_loopback(ok), "{ok:?} refused");
    }
    for bad in [
        "",
        "evil.example",
        "evil.example:8080",
        "localhost.evil.example",
        "127.0.0.1.evil.example",
        "127.0.0.1:80:80",
        "127.0.0.1:",
        "127.0.0.1:http",
        "10.0.0.1",
        "0.0.0.0",
        "[::]",
        "[::2]:80",
        "[::1",
        "[::1]x",
        "::1",
    ] {
        assert!(!host_is_loopback(bad), "{bad:?} accepted");
    }
}

#[test]
fn requests_for_other_hosts_are_refused() {
    let s = Running::start(me(), REQUEST_TIME);
    let r = s.get("/frame.json", "rebound.example:8080");
    assert!(r.starts_with("HTTP/1.1 421"), "{r}");
    assert!(r.contains("`rebound.example:8080`"), "{r}");
    assert!(!r.contains("generation"), "{r}");
    let r = s.get("/", "127.0.0.1.rebound.example");
    assert!(r.starts_with("HTTP/1.1 421"), "{r}");
    let r = s.ask("GET /frame.json HTTP/1.0\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    assert!(r.contains("Host header is required"), "{r}");
    // No snapshot was taken for any of them.
    assert!(s
        .get("/frame.json", "127.0.0.1")
        .contains("\"generation\":1"));
}

#[test]
fn other_users_are_refused() {
    // A server that answers only a uid no connection of this test has.
    let s = Running::start(
        Access {
            server_uid: u32::MAX - 1,
            job_uid: Some(u32::MAX - 2),
        },
        REQUEST_TIME,
    );
    let r = s.get("/frame.json", "127.0.0.1");
    assert!(r.starts_with("HTTP/1.1 403"), "{r}");
    assert!(r.contains("answers only the user who started it"), "{r}");
}

#[test]
fn a_silent_connection_does_not_hold_up_others() {
    // Clients may take a minute to send their request: only serving connections side by
    // side answers the second client while the first is still silent.
    let s = Running::start(me(), Duration::from_secs(60));
    let mut silent = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let answer = s.get("/", "127.0.0.1");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The silent connection is still waiting for its request: nothing was sent to it.
    silent.set_nonblocking(true).unwrap();
    let mut b = [0u8; 1];
    let e = silent.read(&mut b).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock, "{e}");
    // Once it speaks, it is answered too.
    silent.set_nonblocking(false).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    silent
        .write_all(b"GET /text HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut r = String::new();
    silent.read_to_string(&mut r).unwrap();
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
}

#[test]
fn a_client_too_slow_to_send_its_request_is_told_so() {
    let s = Running::start(me(), Duration::from_millis(200));
    let mut silent = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut r = String::new();
    silent.read_to_string(&mut r).unwrap();
    assert!(r.starts_with("HTTP/1.1 408"), "{r}");
}
