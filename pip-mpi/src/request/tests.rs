use super::*;
use std::cell::Cell;
use std::rc::Rc;

/// An operation that completes on its `polls`th poll with `outcome`.
struct After {
    polls: Rc<Cell<u32>>,
    at: u32,
    outcome: Option<Result<MpiStatus>>,
    cancellable: bool,
}

impl Pending for After {
    fn poll(&mut self) -> Option<Result<MpiStatus>> {
        self.polls.set(self.polls.get() + 1);
        if self.polls.get() >= self.at {
            self.outcome.take()
        } else {
            None
        }
    }

    fn ready(&self) -> bool {
        false
    }

    fn cancel(&mut self) -> bool {
        if self.cancellable {
            self.at = 0;
            self.outcome = Some(Ok(MpiStatus {
                cancelled: 1,
                ..EMPTY
            }));
        }
        self.cancellable
    }
}

fn after(at: u32, tag: i32) -> (Box<After>, Rc<Cell<u32>>) {
    let polls = Rc::new(Cell::new(0));
    let op = After {
        polls: polls.clone(),
        at,
        outcome: Some(Ok(MpiStatus {
            MPI_TAG: tag,
            ..EMPTY
        })),
        cancellable: false,
    };
    (Box::new(op), polls)
}

#[test]
fn a_request_is_polled_until_complete_then_reported_once() {
    let (op, polls) = after(2, 7);
    let mut h = insert(op);
    assert_eq!(poll(h).unwrap(), State::Pending);
    assert_eq!(poll(h).unwrap(), State::Complete);
    assert_eq!(
        poll(h).unwrap(),
        State::Complete,
        "a complete request is not polled again"
    );
    assert_eq!(polls.get(), 2);
    let old = h;
    assert_eq!(report(&mut h).unwrap().MPI_TAG, 7);
    assert_eq!(h, MPI_REQUEST_NULL);
    assert!(state(old).is_err(), "the handle is released");
    assert_eq!(
        report(&mut h).unwrap().MPI_SOURCE,
        MPI_ANY_SOURCE,
        "null reports the empty status"
    );
}

#[test]
fn a_persistent_request_is_inactive_until_started_and_after_each_report() {
    let starts = Rc::new(Cell::new(0));
    let counter = starts.clone();
    let starter: Starter = Box::new(move || {
        counter.set(counter.get() + 1);
        Ok(after(1, counter.get()).0 as Box<dyn Pending>)
    });
    let mut h = insert_persistent(starter, On::Nothing);
    assert_eq!(state(h).unwrap(), State::Inactive);
    assert_eq!(report(&mut h).unwrap().MPI_TAG, MPI_ANY_TAG);
    for round in 1..=3 {
        start(h).unwrap();
        assert!(start(h).is_err(), "an active request cannot be started");
        assert_eq!(poll(h).unwrap(), State::Complete);
        let kept = h;
        assert_eq!(report(&mut h).unwrap().MPI_TAG, round);
        assert_eq!(h, kept, "a persistent request keeps its handle");
        assert_eq!(state(h).unwrap(), State::Inactive);
    }
    assert_eq!(starts.get(), 3);
    free(&mut h).unwrap();
    assert_eq!(h, MPI_REQUEST_NULL);
}

#[test]
fn a_freed_request_in_flight_is_polled_to_completion_as_an_orphan() {
    let (op, polls) = after(3, 0);
    let mut h = insert(op);
    free(&mut h).unwrap();
    assert_eq!(h, MPI_REQUEST_NULL);
    // Making requests polls the orphans.
    for _ in 0..4 {
        let mut other = insert(Box::new(After {
            polls: Rc::new(Cell::new(0)),
            at: 1,
            outcome: Some(Ok(EMPTY)),
            cancellable: false,
        }));
        free(&mut other).unwrap();
    }
    assert_eq!(polls.get(), 3, "polled until it completed, then dropped");
    assert!(ORPHANS.with(|o| o.borrow().iter().count()) <= 1);
}

#[test]
fn cancel_asks_the_operation_and_errors_name_the_request() {
    let polls = Rc::new(Cell::new(0));
    let h = insert(Box::new(After {
        polls,
        at: 100,
        outcome: None,
        cancellable: true,
    }));
    cancel(h).unwrap();
    assert_eq!(poll(h).unwrap(), State::Complete);
    let mut h2 = h;
    assert_eq!(report(&mut h2).unwrap().cancelled, 1);
    let e = cancel(MPI_REQUEST_NULL).unwrap_err();
    assert_eq!(e.class, MPI_ERR_REQUEST);
    let e = state(12345).unwrap_err();
    assert!(e.message.contains("12345"), "{}", e.message);
}

#[test]
fn an_error_with_a_status_travels_in_mpi_error() {
    let e = Error::new(crate::error::MPI_ERR_TRUNCATE, "too long");
    let s = MpiStatus {
        MPI_ERROR: crate::error::code_of(&e),
        ..EMPTY
    };
    assert_eq!(failure(&s), Some(e));
    assert_eq!(failure(&EMPTY), None);
}

/// An operation that completes on its first poll, and says whether it is ready.
struct Flagged {
    ready: Rc<Cell<bool>>,
    polls: Rc<Cell<u32>>,
}

impl Pending for Flagged {
    fn poll(&mut self) -> Option<Result<MpiStatus>> {
        self.polls.set(self.polls.get() + 1);
        Some(Ok(EMPTY))
    }

    fn ready(&self) -> bool {
        self.ready.get()
    }
}

#[test]
fn poll_if_ready_leaves_an_operation_alone_until_it_is_ready() {
    let (ready, polls) = (Rc::new(Cell::new(false)), Rc::new(Cell::new(0)));
    let mut h = insert(Box::new(Flagged {
        ready: ready.clone(),
        polls: polls.clone(),
    }));
    assert_eq!(poll_if_ready(h).unwrap(), State::Pending);
    assert_eq!(polls.get(), 0, "polled while not ready");
    ready.set(true);
    assert_eq!(poll_if_ready(h).unwrap(), State::Complete);
    assert_eq!(polls.get(), 1);
    // Complete stays complete, without another poll, until reported.
    assert_eq!(poll_if_ready(h).unwrap(), State::Complete);
    assert_eq!(polls.get(), 1);
    report(&mut h).unwrap();
    assert_eq!(h, MPI_REQUEST_NULL);
    assert_eq!(poll_if_ready(h).unwrap(), State::Null);
    assert!(
        poll_if_ready(12345).is_err(),
        "an unknown handle is an error"
    );
}
