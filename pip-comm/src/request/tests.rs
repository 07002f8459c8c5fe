use super::*;
use crate::prelude::*;

#[test]
fn a_long_loop_of_requests_keeps_the_scope_small() {
    crate::run(1, |world| {
        let me = world.this_process();
        let mut inbox = vec![0u32; 10_000];
        scope(|scope| {
            let mut longest = 0;
            for (i, slot) in inbox.iter_mut().enumerate() {
                me.send(&(i as u32)).unwrap();
                // Waited for at once: done with, so a sweep may forget it.
                let r = me.immediate_receive_into(scope, slot).unwrap();
                assert_eq!(r.wait().unwrap().count, 1);
                longest = longest.max(scope.ops.borrow().len());
            }
            assert!(
                longest <= 2 * MIN_SWEEP,
                "the scope held {longest} operations"
            );
        });
        assert!(inbox.iter().enumerate().all(|(i, &v)| v == i as u32));
    })
    .unwrap();
}
