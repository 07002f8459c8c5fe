//! `#[derive(Equivalence)]`: a user struct travels between ranks like a primitive (the
//! compile-time refusals are the `compile_fail` examples of `pip_comm::Equivalence`).

mod common;

use pip_comm::prelude::*;
use pip_comm::{run, Equivalence};

#[derive(Equivalence, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Particle {
    position: [f64; 3],
    id: u32,
    species: u32,
}

#[derive(Equivalence, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Pair(u16, u16);

#[test]
fn a_derived_struct_is_sent_and_received_between_ranks() {
    let _watchdog = common::watchdog("a_derived_struct_is_sent_and_received_between_ranks");
    let particle = |i: u32| Particle {
        position: [i as f64, 0.5, -1.0],
        id: i,
        species: i % 3,
    };
    run(2, |world| {
        let peer = world.process_at_rank(1 - world.rank());
        if world.rank() == 0 {
            let all: Vec<Particle> = (0..1000).map(particle).collect();
            peer.send(&all[..]).unwrap();
            peer.send(&Pair(3, 4)).unwrap();
        } else {
            let (got, status) = peer.receive_vec::<Particle>().unwrap();
            assert_eq!(status.count, 1000);
            assert!(got.iter().zip(0..).all(|(p, i)| *p == particle(i)));
            assert_eq!(peer.receive::<Pair>().unwrap().0, Pair(3, 4));
        }
    })
    .unwrap();
}

#[test]
fn a_derived_struct_has_exactly_its_fields_bytes() {
    assert_eq!(std::mem::size_of::<Particle>(), 32);
    assert_eq!(std::mem::size_of::<Pair>(), 4);
}

mod renamed {
    // pip-comm under another path, as through the facade crate.
    use pip_comm as comm;

    #[derive(comm::Equivalence, Clone, Copy)]
    #[equivalence(crate = "comm")]
    #[repr(C)]
    pub struct Point {
        pub x: f32,
        pub y: f32,
    }
}

#[test]
fn the_crate_path_can_be_named() {
    fn takes<T: Equivalence>(_: &[T]) {}
    takes(&[renamed::Point { x: 1.0, y: 2.0 }]);
}
