//! Finding deadlocks: cycles of waits in which every thread waits for the others.

use super::{Deadlock, Node};
use std::collections::{BTreeSet, HashMap};

/// The deadlocks among `nodes` (see the module documentation).
pub fn deadlocks(nodes: &[Node]) -> Vec<Deadlock> {
    deadlocks_given(nodes, &BTreeSet::new())
}

/// [`deadlocks`], counting the threads in `acting` as able to act.
pub(super) fn deadlocks_given(nodes: &[Node], acting: &BTreeSet<i32>) -> Vec<Deadlock> {
    let index: HashMap<i32, usize> = nodes.iter().enumerate().map(|(i, n)| (n.tid, i)).collect();
    // Can act: not blocked in an understood wait, or running.
    let mut free: Vec<bool> = nodes
        .iter()
        .map(|n| !n.is_blocked() || n.state == 'R' || acting.contains(&n.tid))
        .collect();
    loop {
        let mut changed = false;
        for (i, n) in nodes.iter().enumerate() {
            if free[i] || n.waits_for_ended {
                continue;
            }
            let able = n
                .targets
                .iter()
                .filter(|t| index.get(t).is_none_or(|&j| free[j]))
                .count();
            if able >= n.needed {
                free[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let stuck: Vec<usize> = (0..nodes.len())
        .filter(|&i| !free[i] && !nodes[i].waits_for_ended)
        .collect();
    // Cycles through stuck nodes: follow stuck targets until a node repeats.
    let mut found: Vec<Deadlock> = Vec::new();
    let mut covered = BTreeSet::new();
    for &start in &stuck {
        if covered.contains(&start) {
            continue;
        }
        let mut path = vec![start];
        let mut cur = start;
        let cycle = loop {
            let Some(next) = nodes[cur]
                .targets
                .iter()
                .filter_map(|t| index.get(t).copied())
                .find(|&j| !free[j] && !nodes[j].waits_for_ended)
            else {
                break None;
            };
            if let Some(pos) = path.iter().position(|&p| p == next) {
                break Some(path[pos..].to_vec());
            }
            path.push(next);
            cur = next;
        };
        covered.extend(path.iter().copied());
        let Some(mut cycle) = cycle else { continue };
        // The same cycle from another start: rotate to its smallest tid and compare.
        let min = (0..cycle.len())
            .min_by_key(|&k| nodes[cycle[k]].tid)
            .unwrap_or(0);
        cycle.rotate_left(min);
        let tids: Vec<i32> = cycle.iter().map(|&i| nodes[i].tid).collect();
        if found.iter().any(|d| d.cycle == tids) {
            continue;
        }
        found.push(Deadlock {
            cycle: tids,
            stuck: Vec::new(),
        });
    }
    // Everyone stuck goes with the first deadlock (one job rarely has two).
    if let Some(first) = found.first_mut() {
        first.stuck = stuck.iter().map(|&i| nodes[i].tid).collect();
    }
    found
}
