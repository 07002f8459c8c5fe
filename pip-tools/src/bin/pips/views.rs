//! The views of one job: `pips fds`, `signals`, `waits` and `serve`.

use crate::args::*;
use crate::list::chosen_jobs;
use crate::{fail, output};
use pip_tools::pips::{self, fds, jobs::Job, render, serve, waits};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

pub(crate) fn fds_cmd(a: FdsArgs) -> ExitCode {
    let jobs = match chosen_jobs(&a.select) {
        Ok(j) => j,
        Err(e) => return fail(e),
    };
    let diagram = a.dot || a.svg;
    let snap = |job: &Job, tr: &mut fds::Tracker| {
        let mut s = pips::job_snapshot(job, tr);
        s.hide(a.hide.hide_stdio, a.hide.images(diagram));
        s
    };
    if diagram {
        if jobs.len() > 1 {
            let pids: Vec<String> = jobs.iter().map(|j| j.pid.to_string()).collect();
            return fail(format!(
                "{} jobs match ({}): choose one with --job",
                jobs.len(),
                pids.join(", ")
            ));
        }
        let s = snap(&jobs[0], &mut fds::Tracker::new());
        let title = render::job_title(&jobs[0]);
        if a.dot {
            print!("{}", render::fds_dot(&title, &s));
        } else {
            print!("{}", render::fds_svg(&title, &s, !a.builtin));
        }
        return ExitCode::SUCCESS;
    }
    let unreadable = std::cell::Cell::new(None);
    let mut trackers: Vec<(i32, fds::Tracker)> = Vec::new();
    let color = std::io::stdout().is_terminal();
    let select = a.select.clone();
    let mut first = Some(jobs);
    let code = output(a.watch, || {
        let jobs = first.take().unwrap_or_else(|| select.jobs());
        let mut text = String::new();
        let mut json = Vec::new();
        for j in &jobs {
            let tr = match trackers.iter_mut().position(|(p, _)| *p == j.pid) {
                Some(i) => &mut trackers[i].1,
                None => {
                    trackers.push((j.pid, fds::Tracker::new()));
                    &mut trackers.last_mut().unwrap().1
                }
            };
            let s = snap(j, tr);
            if s.tables.is_empty() && !s.errors.is_empty() {
                unreadable.set(Some(format!("job {}: {}", j.pid, s.errors.join("; "))));
            }
            if a.json {
                json.push(serde_json::json!({"job": j.to_json(), "fds": s.to_json()}));
            } else {
                text.push_str(&render::fds_text(&render::job_title(j), &s, color));
            }
        }
        if jobs.is_empty() {
            text.push_str("no PiP job is running\n");
        }
        if a.json {
            format!("{}\n", serde_json::to_string_pretty(&json).unwrap())
        } else {
            text
        }
    });
    match unreadable.take() {
        Some(why) => fail(why),
        None => code,
    }
}

pub(crate) fn signals_cmd(select: Select, json: bool, watch: Option<f64>) -> ExitCode {
    if let Err(e) = chosen_jobs(&select) {
        return fail(e);
    }
    output(watch, || {
        let rows = pips::job_signals(&select.jobs());
        if json {
            let v: Vec<_> = rows
                .iter()
                .map(|(job, s)| {
                    let mut j = s.to_json();
                    j["job"] = (*job).into();
                    j
                })
                .collect();
            format!("{}\n", serde_json::to_string_pretty(&v).unwrap())
        } else {
            render::signals_text(&rows)
        }
    })
}

pub(crate) fn waits_cmd(
    select: Select,
    json: bool,
    watch: Option<f64>,
    settle: Duration,
) -> ExitCode {
    if let Err(e) = chosen_jobs(&select) {
        return fail(e);
    }
    let found = std::cell::Cell::new(false);
    let errors = std::cell::RefCell::new(Vec::new());
    let code = output(watch, || {
        found.set(false);
        let mut graphs = Vec::new();
        for job in select.jobs() {
            match waits::stable_graph(&job, settle) {
                Ok(g) => graphs.push(g),
                Err(e) => errors.borrow_mut().push(e.to_string()),
            }
        }
        found.set(
            graphs
                .iter()
                .any(|g| !g.deadlocks.is_empty() || g.nodes.iter().any(|n| n.waits_for_ended)),
        );
        if json {
            let v: Vec<_> = graphs.iter().map(waits::Graph::to_json).collect();
            format!("{}\n", serde_json::to_string_pretty(&v).unwrap())
        } else {
            graphs.iter().map(waits::Graph::to_text).collect()
        }
    });
    if code != ExitCode::SUCCESS {
        return code;
    }
    for e in errors.borrow().iter() {
        eprintln!("pips: {e}");
    }
    if found.get() {
        ExitCode::from(3)
    } else if errors.borrow().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

pub(crate) fn serve_cmd(select: Select, port: u16, hide: Hide) -> ExitCode {
    let jobs = match chosen_jobs(&select) {
        Ok(j) => j,
        Err(e) => return fail(e),
    };
    if jobs.len() > 1 {
        return fail(format!("{} jobs match: choose one with --job", jobs.len()));
    }
    let pid = jobs[0].pid;
    let access = serve::Access {
        server_uid: pips::procfs::my_uid(),
        job_uid: pips::procfs::owner(pid).ok(),
    };
    let listener = match std::net::TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => l,
        Err(e) => return fail(format!("cannot listen on 127.0.0.1:{port}: {e}")),
    };
    let addr = listener.local_addr().unwrap();
    println!("pips: serving job {pid} on http://{addr}/");
    let _ = std::io::stdout().flush();
    // From here on, a client that goes away must cost only its own connection.
    pip_tools::ignore_sigpipe();
    let mut tracker = fds::Tracker::new();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let select = Select {
        jobs: vec![pid],
        ..select
    };
    let mut last: Option<serve::Frame> = None;
    let r = serve::serve(listener, &stop, access, || {
        let Some(job) = select.jobs().into_iter().next() else {
            // Keep the last snapshot on the page, marked as ended.
            return serve::Frame::ended(
                last.as_ref(),
                format!("job {pid} has ended"),
                tracker.generation,
            );
        };
        let mut s = pips::job_snapshot(&job, &mut tracker);
        s.hide(hide.hide_stdio, hide.images(true));
        let title = render::job_title(&job);
        let waits = match waits::stable_graph(&job, waits::DEFAULT_SETTLE) {
            Ok(g) => g.to_json(),
            Err(e) => {
                s.errors.push(format!("waits: {e}"));
                serde_json::Value::Null
            }
        };
        let signals = pips::job_signals(std::slice::from_ref(&job))
            .iter()
            .map(|(_, t)| t.to_json())
            .collect();
        let frame = serve::Frame {
            svg: render::fds_svg_builtin(&title, &s),
            text: render::fds_text(&title, &s, false),
            warnings: s.warnings.iter().map(|w| w.text.clone()).collect(),
            errors: s.errors.clone(),
            generation: tracker.generation,
            job: job.to_json(),
            waits,
            signals,
            ended: false,
            title,
        };
        last = Some(frame.clone());
        frame
    });
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}
