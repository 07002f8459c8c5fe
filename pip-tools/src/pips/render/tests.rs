use super::dot::dot_record;
use super::*;

#[test]
fn table_aligns() {
    let mut t = Table::new(&["A", "LONG", "C"]);
    t.row(vec!["xxxx".into(), "y".into(), "z".into()]);
    assert_eq!(t.render(""), "A     LONG  C\nxxxx  y     z\n");
}

#[test]
fn record_escapes() {
    assert_eq!(dot_record("a|b{c}<d>"), "a\\|b\\{c\\}\\<d\\>");
}
