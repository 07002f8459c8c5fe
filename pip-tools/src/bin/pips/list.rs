//! The listing (`pips` with no command): jobs and tasks, like `ps`, and `-k`/`-s` on them.

use crate::args::*;
use crate::kill::report_sent;
use crate::{fail, output};
use pip_tools::pips::{self, jobs, jobs::Job, killed, render, PipsError};
use std::process::ExitCode;

pub(crate) fn list(a: ListArgs) -> ExitCode {
    let ViewArgs {
        select,
        json,
        watch,
    } = a.view;
    let whole_jobs = a.family || a.descendants;
    if a.kill || a.signal.is_some() {
        let sig = match a.signal.as_deref().map(jobs::parse_signal) {
            None => libc::SIGTERM,
            Some(Some(s)) => s,
            Some(None) => return fail(format!("unknown signal `{}`", a.signal.unwrap())),
        };
        let selected = if whole_jobs {
            family_jobs(&select, a.descendants)
        } else {
            select.jobs()
        };
        // Tasks first, then (with -f or -d) their roots, as PiP's pips does.
        let rows: Vec<(&jobs::Task, bool)> = selected
            .iter()
            .flat_map(|j| j.task_rows().map(|t| (t, false)))
            .chain(
                selected
                    .iter()
                    .filter(|_| whole_jobs)
                    .flat_map(|j| j.tasks.iter().filter(|t| t.role == jobs::Role::Root))
                    .map(|t| (t, true)),
            )
            .collect();
        let mut sent = Vec::new();
        for (t, whole_process) in rows {
            if a.verbose {
                let what = if whole_process {
                    format!("root of job {}", t.job)
                } else {
                    format!("{} of job {}", t.label(), t.job)
                };
                println!(
                    "pips: sending {} to {what} (pid {}, tid {})",
                    pips::signals::signal_name(sig),
                    t.pid,
                    t.tid
                );
            }
            sent.push(jobs::signal_task(t, sig, whole_process));
        }
        killed::confirm_ended(&mut sent, killed::KILL_WAIT);
        return report_sent(&sent);
    }
    if watch.is_none() && !select.jobs.is_empty() {
        // Jobs asked for by pid that are not there: say why (ended, not a PiP job).
        let all = jobs::scan(true);
        for &pid in &select.jobs {
            if let Err(e) = jobs::find_job(&all, pid) {
                return fail(e);
            }
        }
    }
    let chosen = || {
        if whole_jobs {
            family_jobs(&select, a.descendants)
        } else {
            select.jobs()
        }
    };
    if json {
        return output(watch, || {
            let v: Vec<_> = chosen().iter().map(Job::to_json).collect();
            format!("{}\n", serde_json::to_string_pretty(&v).unwrap())
        });
    }
    output(watch, || render::jobs_text(&chosen()))
}

/// PiP's `-f` and `-d`: whole jobs (every row). With `descendants`, a job whose root process is
/// a numeric PATTERN or a descendant of one; otherwise (and also) a job of which anything
/// matches the selection.
pub(crate) fn family_jobs(select: &Select, descendants: bool) -> Vec<Job> {
    let all = select.filter_jobs_only().apply(jobs::scan(
        select.all_users || !select.jobs.is_empty() || descendants,
    ));
    let seeds: Vec<i32> = select
        .patterns
        .iter()
        .filter_map(|p| p.parse().ok())
        .collect();
    all.into_iter()
        .filter(|j| {
            (descendants && seeds.iter().any(|&s| pips::procfs::descends_from(j.pid, s)))
                || !select.filter().apply(vec![j.clone()]).is_empty()
        })
        .collect()
}

/// The jobs `pips fds`/`serve` work on, with an error when there are none.
pub(crate) fn chosen_jobs(select: &Select) -> Result<Vec<Job>, PipsError> {
    let jobs = select.jobs();
    if jobs.is_empty() {
        if let Some(&pid) = select.jobs.first() {
            return Err(match jobs::find_job(&jobs::scan(true), pid) {
                Err(e) => e,
                Ok(_) => PipsError::NotFound(format!("job {pid} has no task that matches")),
            });
        }
        return Err(PipsError::NotFound("no PiP job is running".into()));
    }
    Ok(jobs)
}
