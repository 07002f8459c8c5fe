//! Was this process started by an MPI launcher as one of several processes?
//!
//! A pip-rs job is one root and its tasks: one process tree on one node. An MPI launcher
//! (`mpirun`, `mpiexec`, `srun`) starts several copies of a program and tells each which one
//! it is through its environment. A pip-rs root started that way would make a world of its own
//! in every copy, each unaware of the others: `mpirun -n 2 pip-exec -n 4 prog` would run two
//! separate worlds of 4 ranks, with no message between them and no error. pip-exec and a C
//! MPI program over pip-rs's `libmpi.so` (started on its own) refuse that, with this module's
//! answer in their message.
//!
//! The variables read, with the launcher that sets them:
//!
//! | launcher | size | rank |
//! |---|---|---|
//! | MPICH's Hydra (`mpirun.mpich`, `mpiexec.hydra`), Slurm's PMI | `PMI_SIZE` | `PMI_RANK` |
//! | Open MPI (`mpirun.openmpi`) | `OMPI_COMM_WORLD_SIZE` | `OMPI_COMM_WORLD_RANK` |
//! | MVAPICH | `MV2_COMM_WORLD_SIZE` | `MV2_COMM_WORLD_RANK` |
//!
//! A size of 1 (`mpirun -n 1 pip-exec ...`) is one process, so no refusal; a value that is
//! not a number is ignored. In a task the variables are read from the task's own environment
//! ([`env_var_os`](crate::env_var_os)).

use std::fmt;

/// The (size, rank) variables of each launcher, in the order they are looked at.
const VARIABLES: [(&str, &str); 3] = [
    ("PMI_SIZE", "PMI_RANK"),
    ("OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"),
    ("MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_RANK"),
];

/// This process's place in a launcher's job of several processes (see the module
/// documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LauncherJob {
    /// The variable that gave the size (`PMI_SIZE`, `OMPI_COMM_WORLD_SIZE`, ...).
    pub variable: &'static str,
    /// How many processes the launcher started (more than 1).
    pub size: usize,
    /// Which one this is, if the launcher said so.
    pub rank: Option<usize>,
}

impl fmt::Display for LauncherJob {
    /// "process 1 of 2 started by an MPI launcher (PMI_SIZE=2)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rank {
            Some(r) => write!(f, "process {r} of {}", self.size)?,
            None => write!(f, "one of {} processes", self.size)?,
        }
        write!(
            f,
            " started by an MPI launcher ({}={})",
            self.variable, self.size
        )
    }
}

/// The launcher's job this process is one of, when a launcher started several processes;
/// `None` when no launcher did, or it started only this one.
///
/// ```
/// // A test is not started by an MPI launcher.
/// if std::env::var_os("PMI_SIZE").is_none() && std::env::var_os("OMPI_COMM_WORLD_SIZE").is_none()
///     && std::env::var_os("MV2_COMM_WORLD_SIZE").is_none()
/// {
///     assert_eq!(pip_core::launcher::several_processes(), None);
/// }
/// ```
pub fn several_processes() -> Option<LauncherJob> {
    from(|name| crate::env_var_os(name).and_then(|v| v.into_string().ok()))
}

/// [`several_processes`] with the variables read by `get`.
fn from(get: impl Fn(&str) -> Option<String>) -> Option<LauncherJob> {
    VARIABLES.iter().find_map(|&(size, rank)| {
        let n: usize = get(size)?.trim().parse().ok()?;
        (n > 1).then(|| LauncherJob {
            variable: size,
            size: n,
            rank: get(rank).and_then(|r| r.trim().parse().ok()),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn each_launcher_is_recognised_with_its_rank() {
        let hydra = from(env(&[("PMI_SIZE", "2"), ("PMI_RANK", "1")])).unwrap();
        assert_eq!(
            hydra.to_string(),
            "process 1 of 2 started by an MPI launcher (PMI_SIZE=2)"
        );
        let ompi = from(env(&[("OMPI_COMM_WORLD_SIZE", " 3 ")])).unwrap();
        assert_eq!(
            (ompi.variable, ompi.size, ompi.rank),
            ("OMPI_COMM_WORLD_SIZE", 3, None)
        );
        assert_eq!(
            ompi.to_string(),
            "one of 3 processes started by an MPI launcher (OMPI_COMM_WORLD_SIZE=3)"
        );
        let mv2 = from(env(&[
            ("MV2_COMM_WORLD_SIZE", "4"),
            ("MV2_COMM_WORLD_RANK", "0"),
        ]));
        assert_eq!(mv2.unwrap().rank, Some(0));
    }

    #[test]
    fn one_process_or_a_bad_value_is_no_launcher_job() {
        assert_eq!(from(env(&[])), None);
        assert_eq!(from(env(&[("PMI_SIZE", "1"), ("PMI_RANK", "0")])), None);
        assert_eq!(from(env(&[("OMPI_COMM_WORLD_SIZE", "two")])), None);
        // A bad value of one launcher does not hide another's.
        let both = from(env(&[("PMI_SIZE", "x"), ("OMPI_COMM_WORLD_SIZE", "2")]));
        assert_eq!(both.unwrap().variable, "OMPI_COMM_WORLD_SIZE");
    }
}
