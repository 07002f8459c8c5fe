use super::*;

#[test]
fn pipids_from_digits() {
    // 12 tasks, all alive: exact.
    let threads: Vec<(i32, usize)> = (0..12).map(|p| (100 + p as i32, p % 10)).collect();
    let a = assign_pipids(&threads, Some(12));
    assert!(a.iter().all(|&(tid, p, e)| e && p == (tid - 100) as usize));
    // Task 1 ended: pipid 11's thread alone has digit 1, and looks like task 1.
    let some: Vec<(i32, usize)> = threads.iter().copied().filter(|&(t, _)| t != 101).collect();
    let a = assign_pipids(&some, Some(12));
    let t111 = a.iter().find(|x| x.0 == 111).unwrap();
    assert!(!t111.2, "guess must be marked");
    let t105 = a.iter().find(|x| x.0 == 105).unwrap();
    assert_eq!((t105.1, t105.2), (5, true));
    // Unknown count: guesses.
    assert!(!assign_pipids(&[(5, 0)], None)[0].2);
}

#[test]
fn task_names_and_targets() {
    assert_eq!(parse_task_name("3|hello"), Some((3, "hello", "thread")));
    assert_eq!(parse_task_name("7;hello"), Some((7, "hello", "process")));
    assert_eq!(parse_task_name("R|pip-exec"), None);
    assert_eq!(parse_task_name("bash"), None);
    assert_eq!("all".parse::<Target>().unwrap(), Target::All);
    assert_eq!("12".parse::<Target>().unwrap(), Target::Job(12));
    assert_eq!(
        "12:3".parse::<Target>().unwrap(),
        Target::Task { job: 12, pipid: 3 }
    );
    assert_eq!("12:root".parse::<Target>().unwrap(), Target::Root(12));
    assert_eq!("tid:9".parse::<Target>().unwrap(), Target::Tid(9));
    assert!("x:y".parse::<Target>().is_err());
}
