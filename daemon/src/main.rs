//! `secretgated`: the server-side daemon. Not built yet: the server side is tracked as its
//! own issue; until it lands this binary says so and exits with the error code.

fn main() {
    eprintln!("secretgated: the server-side daemon is not implemented yet; use `secretgate scan` or the client hooks");
    std::process::exit(2);
}
