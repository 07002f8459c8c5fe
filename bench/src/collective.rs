//! The OSU collective latency tests over pip-comm's collectives: `osu_bcast`, `osu_reduce`,
//! `osu_allreduce`, `osu_gather`, `osu_scatter`, `osu_allgather`, `osu_alltoall`.
//!
//! For each size, after a barrier, every rank calls the collective `skip` times untimed and
//! `iterations` times timed; each rank's mean time per call is sent to rank 0, which prints
//! the average over ranks (with `-f` also the minimum, the maximum and the iteration count),
//! as OSU does. The size is OSU's: the bytes each rank contributes or receives per peer (a
//! gather's root receives `size * ranks` bytes). Reductions sum bytes as `i8` (OSU's default
//! type is `MPI_CHAR` with `MPI_SUM`). The root is rank 0. Defaults: 1 B to 1 MiB, 1000
//! iterations and 100 warm-up ones up to 8 KiB, 100 and 10 above; any number of ranks
//! (thread ranks: `-n N`, default 2).

use crate::options::Options;
use crate::{osu_header, Launch, Ranks, Spec};
use pip_comm::prelude::*;
use pip_comm::{SimpleCommunicator, SystemOperation};
use std::io::Write;
use std::time::Instant;

/// The tag of the per-rank results sent to rank 0.
const RESULT_TAG: i32 = 3;

/// One of the collectives measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collective {
    /// `broadcast_into` from rank 0.
    Bcast,
    /// `reduce_into` to rank 0 (sum).
    Reduce,
    /// `all_reduce_into` (sum).
    Allreduce,
    /// `gather_into` to rank 0.
    Gather,
    /// `scatter_into` from rank 0.
    Scatter,
    /// `all_gather_into`.
    Allgather,
    /// `all_to_all_into`.
    Alltoall,
}

impl Collective {
    /// The program name (`osu_allreduce`).
    pub fn name(self) -> &'static str {
        match self {
            Collective::Bcast => "osu_bcast",
            Collective::Reduce => "osu_reduce",
            Collective::Allreduce => "osu_allreduce",
            Collective::Gather => "osu_gather",
            Collective::Scatter => "osu_scatter",
            Collective::Allgather => "osu_allgather",
            Collective::Alltoall => "osu_alltoall",
        }
    }

    /// The title in the header line (`Allreduce Latency Test`).
    pub fn title(self) -> &'static str {
        match self {
            Collective::Bcast => "Broadcast Latency Test",
            Collective::Reduce => "Reduce Latency Test",
            Collective::Allreduce => "Allreduce Latency Test",
            Collective::Gather => "Gather Latency Test",
            Collective::Scatter => "Scatter Latency Test",
            Collective::Allgather => "Allgather Latency Test",
            Collective::Alltoall => "All-to-All Personalized Exchange Latency Test",
        }
    }

    /// The benchmark's name, defaults and rank rule.
    pub fn spec(self) -> Spec {
        Spec {
            name: self.name(),
            defaults: Options {
                min_size: 1,
                max_size: 1 << 20,
                iterations: 1000,
                skip: 100,
                iterations_large: 100,
                skip_large: 10,
                ..Options::default()
            },
            ranks: Ranks::Any,
        }
    }

    /// One call of the collective on `size` bytes per rank; `send` and `recv` hold at least
    /// `size * ranks` bytes.
    fn call(
        self,
        world: &SimpleCommunicator,
        size: usize,
        send: &[i8],
        recv: &mut [i8],
    ) -> pip_comm::Result<()> {
        let n = world.size() as usize;
        let root = world.process_at_rank(0);
        let is_root = world.rank() == 0;
        match self {
            Collective::Bcast => root.broadcast_into(&mut recv[..size]),
            Collective::Reduce if is_root => {
                root.reduce_into_root(&send[..size], &mut recv[..size], SystemOperation::sum())
            }
            Collective::Reduce => root.reduce_into(&send[..size], SystemOperation::sum()),
            Collective::Allreduce => {
                world.all_reduce_into(&send[..size], &mut recv[..size], SystemOperation::sum())
            }
            Collective::Gather if is_root => {
                root.gather_into_root(&send[..size], &mut recv[..size * n])
            }
            Collective::Gather => root.gather_into(&send[..size]),
            Collective::Scatter if is_root => {
                root.scatter_into_root(&send[..size * n], &mut recv[..size])
            }
            Collective::Scatter => root.scatter_into(&mut recv[..size]),
            Collective::Allgather => world.all_gather_into(&send[..size], &mut recv[..size * n]),
            Collective::Alltoall => world.all_to_all_into(&send[..size * n], &mut recv[..size * n]),
        }
    }

    /// Runs the benchmark on `world`; rank 0 writes the table to `out`.
    ///
    /// # Errors
    ///
    /// A messaging error, or an I/O error writing `out`.
    pub fn run(
        self,
        world: &SimpleCommunicator,
        opts: &Options,
        launch: Launch,
        out: &mut dyn Write,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let n = world.size() as usize;
        let send = vec![1i8; opts.max_size * n];
        let mut recv = vec![0i8; opts.max_size * n];
        if world.rank() == 0 {
            writeln!(out, "{}", osu_header(self.title(), launch, world.size()))?;
            writeln!(out, "{}", crate::barrier::columns(opts.full))?;
            out.flush()?;
        }
        for size in crate::options::sizes(opts.min_size.max(1), opts.max_size) {
            let (iterations, skip) = opts.counts(size);
            world.barrier()?;
            let mut start = Instant::now();
            for i in 0..iterations + skip {
                if i == skip {
                    start = Instant::now();
                }
                self.call(world, size, &send, &mut recv)?;
            }
            let us = start.elapsed().as_secs_f64() * 1e6 / iterations as f64;
            if world.rank() == 0 {
                let mut all = vec![us];
                for r in 1..world.size() {
                    let mut v = 0f64;
                    world
                        .process_at_rank(r)
                        .receive_into_with_tag(&mut v, RESULT_TAG)?;
                    all.push(v);
                }
                let avg = all.iter().sum::<f64>() / all.len() as f64;
                let (min, max) = all
                    .iter()
                    .fold((f64::MAX, 0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
                let mut line = format!("{size:<10}{avg:>18.2}");
                if opts.full {
                    line += &format!("{min:>18.2}{max:>18.2}{iterations:>12}");
                }
                writeln!(out, "{line}")?;
                out.flush()?;
            } else {
                world.process_at_rank(0).send_with_tag(&us, RESULT_TAG)?;
            }
        }
        world.barrier()?;
        Ok(())
    }
}

macro_rules! bodies {
    ($($f:ident => $c:ident),*) => {$(
        /// The benchmark body of this collective, for [`crate::task_main`] and
        /// [`crate::threads_main`].
        ///
        /// # Errors
        ///
        /// As [`Collective::run`].
        pub fn $f(
            world: &SimpleCommunicator,
            opts: &Options,
            launch: Launch,
            out: &mut dyn Write,
        ) -> Result<(), Box<dyn std::error::Error>> {
            Collective::$c.run(world, opts, launch, out)
        }
    )*};
}

bodies!(bcast => Bcast, reduce => Reduce, allreduce => Allreduce, gather => Gather,
    scatter => Scatter, allgather => Allgather, alltoall => Alltoall);
