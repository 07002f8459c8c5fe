//! Row ordering for layered diagrams (the fd diagram's tables, OFDs and vnodes): barycentre
//! sweeps that reduce the number of crossing edges, keeping the best order seen.
//!
//! A diagram has layers `0..n`; `edges[l]` joins nodes of layer `l` (first) to nodes of layer
//! `l + 1` (second). An order gives, per layer, the node indices from left to right.

/// Per layer, the node indices from left to right.
pub type Order = Vec<Vec<usize>>;

/// Position of every node of a layer in `order` (its index from the left).
fn positions(order: &[usize], n: usize) -> Vec<usize> {
    let mut pos = vec![0; n];
    for (p, &v) in order.iter().enumerate() {
        pos[v] = p;
    }
    pos
}

/// How many pairs of edges between two neighbouring layers cross, given where each node sits.
pub fn crossings_between(upper: &[usize], lower: &[usize], edges: &[(usize, usize)]) -> usize {
    let mut count = 0;
    for (i, &(a, b)) in edges.iter().enumerate() {
        for &(c, d) in &edges[i + 1..] {
            let (ua, uc, lb, ld) = (upper[a], upper[c], lower[b], lower[d]);
            if (ua < uc && lb > ld) || (ua > uc && lb < ld) {
                count += 1;
            }
        }
    }
    count
}

/// Crossings of the whole diagram in `order` (layers of `sizes[l]` nodes).
pub fn crossings(sizes: &[usize], edges: &[Vec<(usize, usize)>], order: &Order) -> usize {
    let pos: Vec<Vec<usize>> = order
        .iter()
        .zip(sizes)
        .map(|(o, &n)| positions(o, n))
        .collect();
    edges
        .iter()
        .enumerate()
        .map(|(l, e)| crossings_between(&pos[l], &pos[l + 1], e))
        .sum()
}

/// Reorders layer `moving` by the mean position of each node's neighbours in layer `fixed`
/// (nodes without neighbours keep their place relative to the others; equal means are ordered
/// by the leftmost neighbour).
fn sweep(
    order: &mut Order,
    sizes: &[usize],
    edges: &[Vec<(usize, usize)>],
    moving: usize,
    fixed: usize,
) {
    let fixed_pos = positions(&order[fixed], sizes[fixed]);
    let current = positions(&order[moving], sizes[moving]);
    let mut sum = vec![0.0f64; sizes[moving]];
    let mut count = vec![0usize; sizes[moving]];
    let mut first = vec![usize::MAX; sizes[moving]];
    let (link, down) = if fixed < moving {
        (&edges[fixed], true)
    } else {
        (&edges[moving], false)
    };
    for &(a, b) in link {
        let (m, f) = if down { (b, a) } else { (a, b) };
        sum[m] += fixed_pos[f] as f64;
        count[m] += 1;
        first[m] = first[m].min(fixed_pos[f]);
    }
    let key = |v: usize| {
        if count[v] == 0 {
            current[v] as f64
        } else {
            sum[v] / count[v] as f64
        }
    };
    // Equal means: the node whose leftmost neighbour is further left goes first.
    order[moving].sort_by(|&a, &b| {
        key(a)
            .total_cmp(&key(b))
            .then(first[a].cmp(&first[b]))
            .then(current[a].cmp(&current[b]))
    });
}

/// An order of every layer with few crossings: starting from `start` (the nodes' own order when
/// `None`), `passes` rounds of a downward then an upward barycentre sweep; returns the order with
/// the fewest crossings seen (never more than the start's).
pub fn barycentre_order(
    sizes: &[usize],
    edges: &[Vec<(usize, usize)>],
    start: Option<Order>,
    passes: usize,
) -> Order {
    let mut order = start.unwrap_or_else(|| sizes.iter().map(|&n| (0..n).collect()).collect());
    let mut best = (crossings(sizes, edges, &order), order.clone());
    for _ in 0..passes {
        for l in 1..sizes.len() {
            sweep(&mut order, sizes, edges, l, l - 1);
        }
        for l in (0..sizes.len().saturating_sub(1)).rev() {
            sweep(&mut order, sizes, edges, l, l + 1);
        }
        let c = crossings(sizes, edges, &order);
        if c < best.0 {
            best = (c, order.clone());
        }
        if c == 0 {
            break;
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn barycentre_order_removes_the_crossings_of_a_tangled_case() {
        // Three tables, each holding two fds whose OFDs sit, in the nodes' own order, under
        // another table; each OFD has its own vnode, again in a scrambled order.
        let sizes = [3, 6, 6];
        let edges = vec![
            vec![(0, 4), (0, 5), (1, 0), (1, 1), (2, 2), (2, 3)],
            vec![(0, 3), (1, 5), (2, 0), (3, 4), (4, 1), (5, 2)],
        ];
        let identity: Order = sizes.iter().map(|&n| (0..n).collect()).collect();
        let before = crossings(&sizes, &edges, &identity);
        let order = barycentre_order(&sizes, &edges, None, 4);
        let after = crossings(&sizes, &edges, &order);
        assert!(before >= 10, "the case is tangled to start with: {before}");
        assert_eq!(after, 0, "from {before} crossings to {after}: {order:?}");
        // Every node is still there exactly once.
        for (l, o) in order.iter().enumerate() {
            let mut s = o.clone();
            s.sort_unstable();
            assert_eq!(s, (0..sizes[l]).collect::<Vec<_>>());
        }
    }

    #[test]
    fn crossings_are_counted_pairwise() {
        // a-b and c-d cross when their ends are in opposite orders.
        assert_eq!(crossings_between(&[0, 1], &[1, 0], &[(0, 0), (1, 1)]), 1);
        assert_eq!(crossings_between(&[0, 1], &[0, 1], &[(0, 0), (1, 1)]), 0);
        // Edges that share an end never cross.
        assert_eq!(crossings_between(&[0, 1], &[0, 1], &[(0, 0), (0, 1)]), 0);
    }

    #[test]
    fn an_order_without_crossings_is_kept() {
        let sizes = [2, 2];
        let edges = vec![vec![(0, 0), (1, 1)]];
        let o = barycentre_order(&sizes, &edges, None, 3);
        assert_eq!(o, vec![vec![0, 1], vec![0, 1]]);
    }
}
