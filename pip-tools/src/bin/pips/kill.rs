//! `pips kill`: signal a task, a job's tasks, or all tasks.

use crate::fail;
use pip_tools::pips::{self, jobs, jobs::Target, killed, PipsError};
use std::process::ExitCode;

pub(crate) fn report_sent(sent: &[jobs::Sent]) -> ExitCode {
    if sent.is_empty() {
        return fail("no task matched");
    }
    let mut ok = true;
    for s in sent {
        match &s.result {
            Ok(()) if killed::is_a_kill(s.signal) => println!(
                "{}: sent {}; it has ended",
                s.what,
                pips::signals::signal_name(s.signal)
            ),
            Ok(()) => println!("{}: sent {}", s.what, pips::signals::signal_name(s.signal)),
            // Among several targets, one that ended meanwhile (often because the root ended
            // the job when an earlier one died) is not a failure.
            Err(PipsError::Gone(_)) if sent.len() > 1 => println!("{}: already ended", s.what),
            Err(e) => {
                ok = false;
                eprintln!("pips: {e}");
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

pub(crate) fn kill(signal: &str, targets: &[String]) -> ExitCode {
    let Some(sig) = jobs::parse_signal(signal) else {
        return fail(format!("unknown signal `{signal}`"));
    };
    let all = jobs::scan(false);
    let mut sent = Vec::new();
    for t in targets {
        let target: Target = match t.parse() {
            Ok(t) => t,
            Err(e) => return fail(e),
        };
        match jobs::kill(&all, &target, sig) {
            Ok(s) => sent.extend(s),
            Err(e) => return fail(e),
        }
    }
    // A kill is reported as done only once its targets have ended.
    killed::confirm_ended(&mut sent, killed::KILL_WAIT);
    report_sent(&sent)
}
