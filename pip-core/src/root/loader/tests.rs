//! Unit tests of the loader's helpers.

use super::*;

#[test]
fn tunables_split_in_place_by_glibc_are_joined_back() {
    // What glibc 2.36 leaves in /proc/self/environ for
    // GLIBC_TUNABLES=glibc.malloc.check=0:glibc.rtld.nns=16.
    let env = b"HOME=/root\0GLIBC_TUNABLES=glibc.malloc.check=0\0glibc.rtld.nns=16\0PATH=/bin\0";
    let t = tunables_in_start_environment(env).unwrap();
    assert_eq!(t, "glibc.malloc.check=0:glibc.rtld.nns=16");
    assert_eq!(nns_in_tunables(&t), Some(16));
}

#[test]
fn tunables_as_given_are_read_whole() {
    let env = b"GLIBC_TUNABLES=foo.bar=1:glibc.rtld.nns=16\0PATH=/bin\0";
    let t = tunables_in_start_environment(env).unwrap();
    assert_eq!(t, "foo.bar=1:glibc.rtld.nns=16");
    assert_eq!(nns_in_tunables(&t), Some(16));
    // The last setting wins, as in glibc.
    assert_eq!(
        nns_in_tunables("glibc.rtld.nns=16:glibc.rtld.nns=4"),
        Some(4)
    );
    assert_eq!(nns_in_tunables("glibc.malloc.check=0"), None);
    assert_eq!(tunables_in_start_environment(b"PATH=/bin\0"), None);
}
